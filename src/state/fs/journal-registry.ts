/**
 * One {@link StageJournal} per stage directory per process, shared by every
 * file-system store of that stage and closed when the last one lets go.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { nameProblem } from "../../core/names.js";
import { errorCode } from "./durable-files.js";
import { JOURNAL_NAME, StageJournal, type StageJournalOptions } from "./journal.js";

interface Slot {
  journal: StageJournal;
  refs: number;
}

/** Journals in use, by absolute stage directory. */
const open = new Map<string, Slot>();
/** Journals being closed, so that a reopened stage waits for their checkpoint. */
const closing = new Map<string, Promise<void>>();

/**
 * The journal of `stageDir` (an absolute path), opened on first use. Each call
 * must be paired with one {@link releaseJournal}. Options apply only when this
 * call opens the journal.
 *
 * @example
 * const journal = acquireJournal("/abs/.alchemy/app/dev", { checkpointBytes: 8 << 20 });
 * try { await journal.ready(); } finally { await releaseJournal(journal); }
 */
export function acquireJournal(stageDir: string, options: Omit<StageJournalOptions, "after">): StageJournal {
  let slot = open.get(stageDir);
  if (slot === undefined) {
    slot = { journal: new StageJournal(stageDir, { ...options, after: closing.get(stageDir) }), refs: 0 };
    open.set(stageDir, slot);
  }
  slot.refs++;
  return slot.journal;
}

/** Brings the record files of every journal open in this process up to date. */
export async function materializeOpenJournals(): Promise<void> {
  await Promise.all([...open.values()].map((slot) => slot.journal.materialize()));
}

/**
 * Lets go of a journal from {@link acquireJournal}; the last release
 * checkpoints and closes it.
 *
 * @example
 * await releaseJournal(journal);
 */
export async function releaseJournal(journal: StageJournal): Promise<void> {
  const slot = open.get(journal.stageDir);
  if (slot?.journal !== journal || --slot.refs > 0) return;
  open.delete(journal.stageDir);
  const closed = journal.close();
  const settled = closed.then(
    () => undefined,
    () => undefined,
  );
  closing.set(journal.stageDir, settled);
  void settled.then(() => {
    if (closing.get(journal.stageDir) === settled) closing.delete(journal.stageDir);
  });
  await closed;
}

/**
 * Replays the journals left in the stage directories `depth` levels below
 * `dir` (1 below an application, 2 below the root), so that a listing above
 * the stage level sees the records a crashed run acknowledged.
 *
 * @example
 * await recoverStagesBelow("/abs/.alchemy/my-app", 1, { checkpointBytes: 8 << 20 });
 */
export async function recoverStagesBelow(
  dir: string,
  depth: number,
  options: Omit<StageJournalOptions, "after">,
): Promise<void> {
  for (const stageDir of dirsBelow(dir, depth)) {
    if (journalSize(path.join(stageDir, JOURNAL_NAME)) === 0) continue;
    const journal = acquireJournal(stageDir, options);
    try {
      await journal.ready();
    } finally {
      await releaseJournal(journal);
    }
  }
}

function dirsBelow(dir: string, depth: number): string[] {
  if (depth === 0) return [dir];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isDirectory() && nameProblem(entry.name) === undefined)
    .flatMap((entry) => dirsBelow(path.join(dir, entry.name), depth - 1));
}

function journalSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (error) {
    if (errorCode(error) === "ENOENT") return 0;
    throw error;
  }
}
