/**
 * The worker thread of {@link RecordWriter}: applies batches of record-file
 * changes with the same functions the calling thread uses, and reports the
 * directories it touched so that a checkpoint can make them durable.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { DirtyPaths, applyRecordChanges, type RecordChange } from "./durable-files.js";

parentPort?.on("message", ({ id, stageDir, changes }: { id: number; stageDir: string; changes: RecordChange[] }) => {
  const dirty = new DirtyPaths();
  try {
    applyRecordChanges(changes, stageDir, dirty);
    parentPort!.postMessage({ id, dirtyDirs: [...dirty.dirs] });
  } catch (error) {
    const { message, code } = error as NodeJS.ErrnoException;
    parentPort!.postMessage({ id, dirtyDirs: [...dirty.dirs], error: { message, code } });
  }
});
