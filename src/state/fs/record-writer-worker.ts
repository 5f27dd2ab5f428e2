/**
 * The worker thread of {@link RecordWriter}: applies batches of record-file
 * changes with the same functions the calling thread uses, and reports the
 * directories it touched so that a checkpoint can make them durable.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { DirtyPaths, removeRecordFile, replaceFile } from "./durable-files.js";
import type { RecordChange } from "./record-writer.js";

parentPort?.on("message", ({ id, stageDir, changes }: { id: number; stageDir: string; changes: RecordChange[] }) => {
  const dirty = new DirtyPaths();
  try {
    for (const { file, text } of changes) {
      if (text !== undefined) replaceFile(file, text, dirty);
      else removeRecordFile(file, stageDir, dirty);
    }
    parentPort!.postMessage({ id, dirtyDirs: [...dirty.dirs] });
  } catch (error) {
    const { message, code } = error as NodeJS.ErrnoException;
    parentPort!.postMessage({ id, dirtyDirs: [...dirty.dirs], error: { message, code } });
  }
});
