/**
 * One {@link StageJournal} per stage directory per process, shared by every
 * file-system store of that stage and closed when the last one lets go.
 *
 * @module
 */
import { StageJournal, type StageJournalOptions } from "./journal.js";

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
