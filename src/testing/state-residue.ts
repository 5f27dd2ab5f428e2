/**
 * Test scopes on the default filesystem store leave no `.alchemy/` behind
 * unless something in it is worth keeping: once a stage was destroyed cleanly,
 * its now-empty directories are removed, innermost first. Only empty
 * directories go (`rmdir`): a record, a lock, another application's stage or
 * anything a user put there keeps its directory.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";

/**
 * Removes `<dir>/<app>/<stage>`, then `<dir>/<app>` and `dir` if they are empty;
 * `parentsToo: false` stops after the stage directory (another test of this
 * process still uses the application's directory).
 *
 * @example
 * removeEmptyStateDirs("/project/.alchemy", "bucket.test.ts", "uploads", true);
 */
export function removeEmptyStateDirs(dir: string, app: string, stage: string, parentsToo: boolean): void {
  const dirs = [path.join(dir, app, stage)];
  if (parentsToo) dirs.push(path.join(dir, app), dir);
  for (const target of dirs) {
    try {
      fs.rmdirSync(target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") continue;
      // Not empty (ENOTEMPTY, or EEXIST on some systems), or not ours to remove: keep it and what is above.
      return;
    }
  }
}
