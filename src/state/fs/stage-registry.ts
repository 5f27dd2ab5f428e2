/**
 * One {@link StageFiles} per stage directory per process, shared by every
 * file-system store of that stage and let go of when the last one (and the
 * run's lock, if taken) lets go.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { nameProblem } from "../../core/names.js";
import { errorCode } from "./durable-files.js";
import { JournalReader } from "./journal-reader.js";
import type { StageJournalOptions } from "./journal.js";
import { holdsRecords, linkRefused, readScopeTree } from "./scope-dir.js";
import { StageFiles, stagePathOf } from "./stage-files.js";

interface Slot {
  stage: StageFiles;
  refs: number;
}

/** Stages in use, by absolute stage directory. */
const open = new Map<string, Slot>();
/** Stages being let go of, so that a stage used again waits for their checkpoint. */
const closing = new Map<string, Promise<void>>();

/**
 * The {@link StageFiles} of `stageDir` (an absolute path), made on first
 * use. Each call must be paired with one {@link releaseStage}. Options apply
 * only when this call makes it.
 *
 * @example
 * const stage = acquireStage("/abs/.alchemy/app/dev", { checkpointBytes: 8 << 20 });
 * try { await stage.read(...); } finally { await releaseStage(stage); }
 */
export function acquireStage(stageDir: string, options: StageJournalOptions): StageFiles {
  let slot = open.get(stageDir);
  if (slot === undefined) {
    slot = { stage: new StageFiles(stageDir, stagePathOf(stageDir), options, closing.get(stageDir)), refs: 0 };
    open.set(stageDir, slot);
  }
  slot.refs++;
  return slot.stage;
}

/**
 * Lets go of a stage from {@link acquireStage}; the last release closes it
 * (checkpointing the journal and releasing a lock a write took).
 *
 * @example
 * await releaseStage(stage);
 */
export async function releaseStage(stage: StageFiles): Promise<void> {
  const slot = open.get(stage.stageDir);
  if (slot?.stage !== stage || --slot.refs > 0) return;
  open.delete(stage.stageDir);
  const closed = stage.close();
  const settled = closed.then(
    () => undefined,
    () => undefined,
  );
  closing.set(stage.stageDir, settled);
  void settled.then(() => {
    if (closing.get(stage.stageDir) === settled) closing.delete(stage.stageDir);
  });
  await closed;
}

/**
 * Names of the stage directories `depth` levels below `dir` (1 below an
 * application, 2 below the state root) grouped by their first level, kept
 * only where the stage holds a record: in a file, or acknowledged in its
 * journal and not yet in a file. Reads only.
 *
 * @example
 * await namesHoldingRecords("/abs/.alchemy/my-app", 1); // ["dev", "prod"]
 */
export async function namesHoldingRecords(dir: string, depth: 1 | 2): Promise<string[]> {
  const names: string[] = [];
  for (const name of scopeDirNames(dir)) {
    const child = path.join(dir, name);
    const stages = depth === 1 ? [child] : scopeDirNames(child).map((stage) => path.join(child, stage));
    for (const stageDir of stages) {
      if (await stageHoldsRecords(stageDir)) {
        names.push(name);
        break;
      }
    }
  }
  return names;
}

async function stageHoldsRecords(stageDir: string): Promise<boolean> {
  const inUse = open.get(stageDir)?.stage;
  if (inUse) {
    const { files: tree, pending } = await inUse.read(() => readScopeTree(stageDir));
    return holdsRecords(tree, stageDir, pending);
  }
  const reader = new JournalReader(stageDir);
  try {
    const tree = reader.read(() => readScopeTree(stageDir));
    return holdsRecords(tree, stageDir, reader);
  } finally {
    reader.close();
  }
}

function scopeDirNames(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return [];
    throw error;
  }
  const named = entries.filter((entry) => nameProblem(entry.name) === undefined);
  const link = named.find((entry) => entry.isSymbolicLink());
  if (link !== undefined) throw linkRefused(path.join(dir, link.name), "scope directory");
  return named.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
}
