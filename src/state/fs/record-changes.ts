/**
 * Applying a batch of acknowledged changes to the record files of a stage:
 * each record replaced atomically (recycling the files of replaced records,
 * see `spare-files.ts`) or removed, then the scope directories the removals
 * emptied are removed. A batch is applied in slices of a few milliseconds of
 * synchronous calls (each is a handful of syscalls, cheaper than a round trip
 * through the libuv pool), with the event loop free between slices.
 *
 * @module
 */
import path from "node:path";
import { errorCode, markWritten, removeEmptyDir, replaceFile, type DirtyPaths } from "./durable-files.js";
import type { SpareFiles } from "./spare-files.js";

/** One record file to replace (`text`) or remove (no `text`). */
export interface RecordChange {
  file: string;
  text?: string;
}

/** Longest stretch of synchronous file operations before the event loop gets a turn. */
const SLICE_MS = 10;

/**
 * Applies `changes` under the stage directory `stageDir` (in order for each
 * file), then removes the scope directories the removals left empty (each
 * directory tried once per batch, not once per removed record).
 *
 * @example
 * await applyRecordChanges([{ file: "/abs/.alchemy/app/dev/api.json", text: "{...}\n" }], "/abs/.alchemy/app/dev", dirty, spares);
 */
export async function applyRecordChanges(changes: RecordChange[], stageDir: string, dirty: DirtyPaths, spares: SpareFiles): Promise<void> {
  const emptied = new Set<string>();
  let sliceStart = performance.now();
  for (const { file, text } of interleaveDirectories(changes)) {
    if (performance.now() - sliceStart >= SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    if (text !== undefined) {
      replaceRecordFile(file, text, dirty, spares);
      continue;
    }
    try {
      spares.writes.unlink(file);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
    }
    dirty.dirs.add(path.dirname(file));
    emptied.add(path.dirname(file));
  }
  // Deepest first, so a parent is tried after its children are gone.
  for (const dir of [...emptied].sort((a, b) => b.length - a.length)) {
    for (let d = dir; d.startsWith(stageDir + path.sep); d = path.dirname(d)) {
      if (!removeEmptyDir(d, spares.writes)) break;
      dirty.dirs.add(path.dirname(d));
    }
  }
}

/**
 * Replaces the record file `file` with `text` atomically: the complete text
 * goes into a spare of its directory (or a new temp file when none is ready),
 * the current file is kept as a spare, and the new one is renamed into place.
 *
 * @example
 * replaceRecordFile("/abs/.alchemy/app/dev/api.json", serializeState(state), dirty, spares);
 */
export function replaceRecordFile(file: string, text: string, dirty: DirtyPaths, spares: SpareFiles): void {
  const spare = spares.take(path.dirname(file));
  if (spare === undefined || !spares.rewrite(spare, text)) {
    replaceFile(file, text, dirty, spares.writes, { before: () => spares.keep(file), failed: (kept) => spares.release(kept) });
    return;
  }
  const kept = spares.keep(file);
  try {
    spares.writes.rename(spare, file);
  } catch (error) {
    // Neither the old file nor the rewritten spare may stay linked to a name the writer would reuse.
    if (kept !== undefined) spares.release(kept);
    spares.release(spare);
    throw error;
  }
  markWritten(file, dirty);
}

/**
 * `changes` taken from each directory in turn (in order within a directory,
 * so two changes to one file keep theirs). A directory's spares then age
 * while the other directories are written, so more of them are past their
 * grace period when the next record of that directory needs one.
 */
function interleaveDirectories(changes: RecordChange[]): RecordChange[] {
  const byDir = new Map<string, RecordChange[]>();
  for (const change of changes) {
    const dir = path.dirname(change.file);
    const list = byDir.get(dir);
    if (list === undefined) byDir.set(dir, [change]);
    else list.push(change);
  }
  if (byDir.size < 2) return changes;
  const lists = [...byDir.values()];
  const result: RecordChange[] = [];
  for (let index = 0; result.length < changes.length; index++) {
    for (const list of lists) if (index < list.length) result.push(list[index]!);
  }
  return result;
}
