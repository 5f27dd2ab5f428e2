/**
 * The metadata of a stage in the file-system store: the file
 * `<stage dir>/~stage.json` (mode 0600), pretty-printed JSON.
 *
 * It is written directly, not through the stage's journal: temp file, fsync,
 * rename, fsync of the directory ({@link replaceFileDurably}), through the
 * lock holder's fence (`stage-fence.ts`) and after the same check the
 * journal makes before each commit (the store calls
 * `StageJournal.refusal()` in the same turn of the event loop). A symbolic
 * link in its place is never followed. Metadata
 * changes a few times in a stage's life, so group commit would save nothing,
 * and this keeps the journal, its replay and its checkpoints about records
 * only. Each write is durable once it returns, as a record write is once its
 * promise resolves, so a reader (or a crash) sees them in the order the
 * caller awaited them.
 *
 * Removing the metadata unlinks the file and fsyncs the directory
 * ({@link removeStageMeta}), after the same fence check.
 *
 * The `~` keeps the file apart from records (`~stage` is not a valid id) and
 * scopes (it is a file). It keeps its stage directory: a stage whose records
 * are all gone is removed at the end of a run only if it holds no metadata
 * either, and metadata is never removed implicitly, only by
 * `deleteStageMeta`. A stage holding only metadata is not listed by the
 * application's `listScopes`, which names the stages holding records.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { StateStoreError, toError } from "../../core/errors.js";
import type { StageMeta } from "../state-store.js";
import { errorCode, fsyncPath, replaceFileDurably } from "./durable-files.js";
import { STAGE_META_NAME } from "./stage-layout.js";
import { O_NOFOLLOW, type StageWrites } from "./stage-writes.js";
import { parseStageMeta } from "../stage-meta.js";

export { STAGE_META_NAME };

/**
 * The metadata of the stage at `stageDir`, or `undefined` when it has none.
 *
 * @throws StateStoreError naming the file when it cannot be read or is not the JSON of an object.
 * @example
 * readStageMeta("/abs/.alchemy/my-app/prod"); // { secrets: { ... } } | undefined
 */
export function readStageMeta(stageDir: string): StageMeta | undefined {
  const file = path.join(stageDir, STAGE_META_NAME);
  let text: string;
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW);
    try {
      text = fs.readFileSync(fd, "utf8");
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw fileError(file, "read", error);
  }
  return parseStageMeta(
    text,
    file,
    "Restore the file from a backup. Removing it makes alchemy forget what it kept there for the stage, such as the check of its secrets' key.",
  );
}

/**
 * Replaces the metadata file of the stage at `stageDir` with `text`,
 * atomically; durable once it returns. Creates the stage directory if
 * needed. The caller checks the stage's fence first.
 *
 * @throws StateStoreError naming the file when it cannot be written; the previous content is then intact.
 * @example
 * writeStageMeta("/abs/.alchemy/my-app/prod", JSON.stringify(meta, null, 2) + "\n", fence.writes);
 */
export function writeStageMeta(stageDir: string, text: string, writes: StageWrites): void {
  const file = path.join(stageDir, STAGE_META_NAME);
  try {
    replaceFileDurably(file, text, writes);
  } catch (error) {
    throw fileError(file, "write", error);
  }
}

/**
 * Removes the metadata file of the stage at `stageDir`, durably (the
 * directory is fsynced, also when the file was already gone, so that a
 * removal by someone else is durable too); a no-op without the file. The
 * stage directory itself is left to the journal, which removes it at the end
 * of the run when nothing else is left in it. The caller checks the stage's
 * fence first.
 *
 * @throws StateStoreError naming the file when it cannot be removed; it is then intact.
 * @example
 * removeStageMeta("/abs/.alchemy/my-app/prod", fence.writes);
 */
export function removeStageMeta(stageDir: string, writes: StageWrites): void {
  const file = path.join(stageDir, STAGE_META_NAME);
  try {
    writes.unlink(file);
  } catch (error) {
    const code = errorCode(error);
    if (code !== "ENOENT" && code !== "ENOTDIR") throw fileError(file, "remove", error);
  }
  try {
    fsyncPath(stageDir);
  } catch (error) {
    throw fileError(file, "remove", error);
  }
}

function fileError(file: string, doing: "read" | "write" | "remove", error: unknown): StateStoreError | Error {
  if (!errorCode(error)) return toError(error); // a refused write (the lock is lost) says so itself
  const cause = toError(error);
  if (errorCode(error) === "ELOOP") {
    return new StateStoreError(
      `The stage metadata file ${file} is a symbolic link. alchemy never follows links in its state directory: replace it with the real file (or remove it, and check who put it there), then run again.`,
      file,
      { cause },
    );
  }
  return new StateStoreError(
    `Cannot ${doing} the stage metadata file ${file}: ${cause.message}. ` +
      (doing === "write" ? "Its previous content is intact. " : "") +
      `Check that the directory and the file belong to the user running alchemy (modes 0700 and 0600)` +
      (doing === "write" ? " and that the disk has space, then run again." : doing === "remove" ? ", then run again." : "."),
    file,
    { cause },
  );
}
