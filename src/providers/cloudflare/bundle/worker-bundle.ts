/**
 * What a Worker's build produced: its modules (ready for `WorkerSpec`), the
 * files it was made from, and a hash that says whether anything changed.
 *
 * @module
 */
import { createHash } from "node:crypto";
import path from "node:path";
import type { Message, Metafile, OutputFile } from "esbuild";
import type { WorkerModule } from "../backend.js";
import { BundleError, formatMessage } from "./bundle-error.js";

/** A bundled Worker. */
export interface WorkerBundle {
  /** `index.js` (the entry, first) and `index.js.map` (its source map, as a `sourcemap` module). */
  modules: WorkerModule[];
  /** Absolute paths of every source file that went into the bundle, sorted: what to watch. */
  inputs: string[];
  /**
   * sha256 (hex) of the modules' names, types and contents: equal for equal
   * code. A resource keeps it in its props or output to tell an update from
   * an unchanged Worker. The source map is included so that a change that
   * only moves lines (a comment) still uploads a map that matches.
   */
  hash: string;
  /** esbuild's warnings, as `file:line:column: text`; the bundle is usable. Absent from a bundle made by hand (a placeholder). */
  warnings?: string[];
}

/**
 * The bundle of a successful build of `workerName`, whose output names are relative to `rootDir`.
 *
 * @throws BundleError when esbuild produced an output a Worker cannot load (e.g. `index.css`).
 * @example
 * const bundle = toWorkerBundle(await esbuild.build(options), { rootDir, workerName });
 */
export function toWorkerBundle(
  result: { outputFiles?: OutputFile[]; metafile?: Metafile; warnings: Message[] },
  options: { rootDir: string; workerName: string },
): WorkerBundle {
  const modules = toModules(result.outputFiles ?? [], options);
  return {
    modules,
    inputs: inputPaths(result.metafile, options.rootDir),
    hash: hashModules(modules),
    warnings: result.warnings.map((warning) => formatMessage(warning, options.rootDir)),
  };
}

function toModules(files: OutputFile[], options: { rootDir: string; workerName: string }): WorkerModule[] {
  const named = files.map((file) => ({ name: path.relative(options.rootDir, file.path).split(path.sep).join("/"), text: file.text }));
  // A stylesheet comes with its own map: name the stylesheet, not both.
  const unloadable = named.filter(({ name }) => !name.endsWith(".js") && !name.endsWith(".map")).map(({ name }) => name);
  if (unloadable.length > 0) {
    throw new BundleError(
      `Worker "${options.workerName}": the bundle has outputs a Worker cannot load: ${unloadable.join(", ")}. ` +
        `Remove the imports that produce them (a stylesheet, an asset) from the Worker's script.`,
      options.workerName,
    );
  }
  return named
    .filter(({ name }) => name.endsWith(".js") || name.endsWith(".js.map"))
    .map(({ name, text }): WorkerModule => ({ name, type: name.endsWith(".map") ? "sourcemap" : "esm", contents: text }))
    .sort(entryFirst);
}

/** The entry module first (`main_module`), then the rest by name. */
function entryFirst(a: WorkerModule, b: WorkerModule): number {
  const rank = (m: WorkerModule) => (m.type === "esm" ? 0 : 1);
  return rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Metafile inputs are relative to absWorkingDir; inputs that are not files
 * (`(disabled):...` for a package's `"browser": { "x": false }`, `data:`
 * URLs, a plugin's namespace) have a `prefix:` and are left out.
 */
function inputPaths(metafile: Metafile | undefined, rootDir: string): string[] {
  const files = Object.keys(metafile?.inputs ?? {}).filter((input) => path.isAbsolute(input) || !/^[^/\\]*:/.test(input));
  return files.map((input) => path.resolve(rootDir, input)).sort();
}

function hashModules(modules: WorkerModule[]): string {
  const hash = createHash("sha256");
  for (const module of modules) {
    const contents = typeof module.contents === "string" ? Buffer.from(module.contents) : module.contents;
    hash.update(`${module.name}\0${module.type}\0${contents.byteLength}\0`).update(contents);
  }
  return hash.digest("hex");
}
