/**
 * Warnings about who else may write the state directory. The store creates
 * its directories 0700, but a directory made by hand (or by `mkdir` under a
 * permissive umask, or a shared `/tmp` path) may let other users add,
 * replace or remove records, or plant links, in it.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";

/**
 * Messages naming each directory from the state root `root` down to `dir`
 * that users other than its owner may write to (world-writable; a sticky
 * directory such as `/tmp` itself is fine, as is anything above `root`).
 *
 * @example
 * stateDirWarnings("/abs/.alchemy", "/abs/.alchemy/app/dev");
 * // ["The state directory /abs/.alchemy can be written by every user of this machine (mode 0777): ..."]
 */
export function stateDirWarnings(root: string, dir: string): string[] {
  const warnings: string[] = [];
  const relative = path.relative(root, dir);
  const parts = relative === "" || relative.startsWith("..") ? [] : relative.split(path.sep);
  let current = root;
  for (let i = 0; i <= parts.length; i++) {
    if (i > 0) current = path.join(current, parts[i - 1]!);
    let mode: number;
    try {
      // The root may be a link the user chose (a link's own mode is always 0777): its directory counts.
      mode = (i === 0 ? fs.statSync(current) : fs.lstatSync(current)).mode;
    } catch {
      break; // not made yet: the store makes it 0700
    }
    const worldWritable = (mode & 0o002) !== 0 && (mode & 0o1000) === 0;
    if (!worldWritable) continue;
    warnings.push(
      `The state directory ${current} can be written by every user of this machine (mode 0${(mode & 0o7777).toString(8)}): ` +
        `any of them could change or plant records there. Run \`chmod 700 ${current}\` to keep it yours.`,
    );
  }
  return warnings;
}
