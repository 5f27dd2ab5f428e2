/**
 * Which file a command runs: the one given, else `alchemy.run.ts`, `.js` or
 * `.mjs` in the current directory.
 *
 * @module
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { UsageError } from "./exit-codes.js";

/** Default entry file names, in the order they are looked for. */
export const DEFAULT_ENTRIES = ["alchemy.run.ts", "alchemy.run.js", "alchemy.run.mjs"];

/** The absolute path of the program to run. */
export function resolveEntry(given: string | undefined, cwd: string): string {
  if (given !== undefined) {
    const file = path.resolve(cwd, given);
    if (!existsSync(file)) throw new UsageError(`Program ${file} does not exist. Pass the path of your alchemy.run.ts (or run from its directory).`);
    if (!statSync(file).isFile()) throw new UsageError(`${file} is not a file. Pass the path of your alchemy.run.ts.`);
    return file;
  }
  for (const name of DEFAULT_ENTRIES) {
    const file = path.join(cwd, name);
    if (existsSync(file)) return file;
  }
  throw new UsageError(
    `No program found in ${cwd}: looked for ${DEFAULT_ENTRIES.join(", ")}. Run from your project's directory, pass the program's path, or create a project with \`alchemy init\`.`,
  );
}
