/**
 * Reading the `.alchemy` directory Alchemy 0.94's `FileSystemStateStore`
 * writes, file by file, without interpreting the records:
 *
 * ```
 * .alchemy/<app>/<stage>.json               the stage's scope record (only when 0.94 kept data in it)
 * .alchemy/<app>/<stage>/<id>.json          a resource (":" in the file name stands for "/" in the id)
 * .alchemy/<app>/<stage>/backend.json       the scope record of nested scope "backend" (kind alchemy::Scope)
 * .alchemy/<app>/<stage>/backend/<id>.json  a resource of that scope
 * .alchemy/<app>/<stage>/<id>/<child>.json  a resource its parent's handler declared
 * ```
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { StateStoreError } from "../../core/errors.js";

/** One record file of Alchemy 0.94, parsed but not interpreted. */
export interface V094File {
  /** Scope the file is in, from the application down: `["app", "prod", "backend"]`. */
  chain: string[];
  /** Key of the record in its scope, as 0.94 reads it from the file name. */
  id: string;
  /** Absolute path of the file. */
  file: string;
  /** The file's JSON. */
  value: unknown;
}

/** Everything of one stage in a 0.94 `.alchemy` directory. */
export interface V094Stage {
  /** The `.alchemy` directory (absolute). */
  dir: string;
  app: string;
  stage: string;
  /** The stage's directory, `<dir>/<app>/<stage>`. */
  stageDir: string;
  /** Every record file below the stage's directory, in a stable order. */
  files: V094File[];
  /** `<dir>/<app>/<stage>.json`, the stage's own scope record, when there is one. */
  stageRecord?: V094File;
  /** Entries this engine's filesystem store makes (`~journal`, `~lock`, `~stage.json`): the stage is not 0.94's. */
  engineEntries: string[];
}

/**
 * Directories directly in `dir` (applications in a `.alchemy` directory,
 * stages in an application's), sorted; none when `dir` does not exist.
 *
 * @example
 * v094Children("/home/me/project/.alchemy"); // ["storefront"]
 */
export function v094Children(dir: string): string[] {
  return entriesOf(dir)
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && !e.name.startsWith("~"))
    .map((e) => e.name)
    .sort();
}

/**
 * Reads every record file of stage `stage` of `app` in the 0.94 state
 * directory `dir`. Refuses a stage that is not there, a symbolic link and a
 * file that is not JSON, naming the path.
 *
 * @example
 * const stage = readV094Stage("/home/me/project/.alchemy", "storefront", "prod");
 * stage.files.map((f) => [...f.chain, f.id].join("/")); // ["storefront/prod/assets", ...]
 */
export function readV094Stage(dir: string, app: string, stage: string): V094Stage {
  const stageDir = path.join(dir, app, stage);
  const stat = fs.lstatSync(stageDir, { throwIfNoEntry: false });
  if (stat === undefined || !stat.isDirectory()) {
    const there = v094Children(path.join(dir, app));
    throw new StateStoreError(
      `${stageDir} is not a directory, so Alchemy 0.94 recorded no stage "${stage}" of application "${app}" in ${dir}` +
        (there.length ? ` (its stages there: ${there.join(", ")}).` : ".") +
        ` Pass the directory Alchemy 0.94 wrote (its rootDir/.alchemy) and the stage with --stage.`,
      stageDir,
    );
  }
  const files: V094File[] = [];
  const engineEntries: string[] = [];
  const walk = (chain: string[], at: string) => {
    for (const entry of entriesOf(at).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(at, entry.name);
      if (chain.length === 2 && entry.name.startsWith("~")) {
        engineEntries.push(entry.name);
        continue;
      }
      if (entry.isSymbolicLink()) {
        throw new StateStoreError(`${full} is a symbolic link; Alchemy 0.94 writes none. Replace it with the file or directory it points to, then run again.`, full);
      }
      if (entry.isDirectory()) walk([...chain, entry.name], full);
      else if (entry.isFile() && entry.name.endsWith(".json")) files.push(readFile(chain, entry.name, full));
    }
  };
  walk([app, stage], stageDir);
  const stageFile = path.join(dir, app, `${stage}.json`);
  const stageRecord = fs.existsSync(stageFile) ? readFile([app], `${stage}.json`, stageFile) : undefined;
  return { dir, app, stage, stageDir, files, stageRecord, engineEntries };
}

function readFile(chain: string[], name: string, file: string): V094File {
  // 0.94 writes "/" in a key as ":" in the file name, and reads it back the same way.
  const id = name.slice(0, -".json".length).replaceAll(":", "/");
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new StateStoreError(
      `Cannot read ${file} as an Alchemy 0.94 record: ${(error as Error).message}. Nothing was changed. Restore the file from a backup, or remove it if its resource no longer exists.`,
      file,
      { cause: error },
    );
  }
  return { chain, id, file, value };
}

function entriesOf(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw new StateStoreError(`Cannot read ${dir}: ${(error as Error).message}. Check that it belongs to the user running alchemy.`, dir, { cause: error });
  }
}
