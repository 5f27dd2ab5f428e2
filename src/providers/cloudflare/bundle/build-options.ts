/**
 * The esbuild options a Worker is bundled with, shared by a one-off build
 * (deploy) and a watching context (`alchemy dev`) so both produce the same
 * bundle, and the same hash, from the same sources.
 *
 * @module
 */
import type { BuildOptions } from "esbuild";

/**
 * Options for bundling the script at `entryPath` (absolute) into `index.js`
 * and `index.js.map`, in memory.
 *
 * - Resolution as workerd does: the `workerd`, `worker` and `browser` export
 *   conditions (then esbuild's `import` and `default`), `browser`, `module`,
 *   `main` fields; never `node`.
 * - `cloudflare:*` and `node:*` are left as imports: the runtime provides them.
 * - Paths (metafile inputs, error locations, the source map's `sources`) are
 *   relative to `rootDir`.
 *
 * @example
 * const result = await esbuild.build(workerBuildOptions("/abs/project/src/index.ts", "/abs/project"));
 */
export function workerBuildOptions(entryPath: string, rootDir: string) {
  return {
    absWorkingDir: rootDir,
    entryPoints: [{ in: entryPath, out: "index" }],
    // Output names are only names (nothing is written): the root makes the
    // source map's sources read "src/index.ts". esbuild would refuse an
    // output named like an input (a root's index.js) without allowOverwrite.
    outdir: rootDir,
    allowOverwrite: true,
    write: false,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    metafile: true,
    sourcemap: "external",
    // Errors are thrown (or reported to the watcher) with the Worker's name; esbuild prints nothing.
    logLevel: "silent",
  } satisfies BuildOptions;
}
