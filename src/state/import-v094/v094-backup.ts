/**
 * The backup an in-place import keeps of what Alchemy 0.94 wrote: the stage's
 * directory and its scope record move, unchanged, to
 * `<dir>/~v094-backup/<app>/<stage>/` (and `<stage>.json` beside it), inside
 * the state directory, so they stay wherever the state directory is kept and
 * ignored (a name starting with `~` is never an application or a scope). The
 * backup is itself a 0.94 state directory: `alchemy state import --from
 * alchemy-0.94 .alchemy/~v094-backup` imports from it again.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { StateStoreError } from "../../core/errors.js";
import type { V094Stage } from "./v094-layout.js";

/** The directory, inside the state directory `dir`, that holds 0.94 backups. */
export const V094_BACKUP_DIR = "~v094-backup";

/** Where the stage of `source` goes: the backup's state directory and the stage's place in it. */
export function v094BackupOf(source: V094Stage): { root: string; stageDir: string } {
  const root = path.join(source.dir, V094_BACKUP_DIR);
  return { root, stageDir: path.join(root, source.app, source.stage) };
}

/**
 * Refuses, before anything changes, when a backup of the stage is there already.
 *
 * @example
 * assertNoV094Backup(source); // throws when .alchemy/~v094-backup/storefront/prod exists
 */
export function assertNoV094Backup(source: V094Stage): void {
  const { stageDir } = v094BackupOf(source);
  for (const taken of [stageDir, `${stageDir}.json`]) {
    if (fs.existsSync(taken)) {
      throw new StateStoreError(
        `A backup of stage ${source.app}/${source.stage} is at ${taken} already (from an earlier import). Nothing was changed. ` +
          "Move it elsewhere (or delete it, if you no longer need it), then run again.",
        taken,
      );
    }
  }
}

/**
 * Moves the 0.94 files of `source` into the backup; resolves to the backup's
 * stage directory.
 *
 * @example
 * moveV094StageToBackup(source); // "/abs/.alchemy/~v094-backup/storefront/prod"
 */
export function moveV094StageToBackup(source: V094Stage): string {
  assertNoV094Backup(source);
  const { stageDir } = v094BackupOf(source);
  fs.mkdirSync(path.dirname(stageDir), { recursive: true, mode: 0o700 });
  move(source.stageDir, stageDir);
  if (source.stageRecord) move(source.stageRecord.file, `${stageDir}.json`);
  return stageDir;
}

function move(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") {
      throw new StateStoreError(`Cannot move ${from} to the backup ${to}: ${(error as Error).message}.`, from, { cause: error });
    }
    fs.cpSync(from, to, { recursive: true, preserveTimestamps: true, errorOnExist: true, force: false });
    fs.rmSync(from, { recursive: true });
  }
}
