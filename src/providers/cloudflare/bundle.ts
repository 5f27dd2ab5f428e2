/**
 * The Worker bundler: one esbuild build of a Worker's script into the modules
 * a backend uploads (`bundleWorker`, for deploy), or a watching build that
 * reports every rebuild (`watchWorker`, for `alchemy dev`). esbuild is an
 * optional peer dependency, loaded on the first bundle.
 *
 * @example
 * const bundle = await bundleWorker("./src/index.ts", { rootDir: process.cwd(), workerName: "api-worker" });
 * await backend.putWorker({ ...spec, modules: bundle.modules }, { adopt: false, created: true });
 *
 * @module
 */
import path from "node:path";
import type { BuildResult, Message, Plugin } from "esbuild";
import { BundleError, buildFailed } from "./bundle/bundle-error.js";
import { workerBuildOptions } from "./bundle/build-options.js";
import { importPeer } from "../../core/peer-dependency.js";
import { loadEsbuild } from "./bundle/load-esbuild.js";
import { resolveEntry } from "./bundle/resolve-entry.js";
import { toWorkerBundle, type WorkerBundle } from "./bundle/worker-bundle.js";

export { BundleError, type BundleProblem } from "./bundle/bundle-error.js";
export type { WorkerBundle } from "./bundle/worker-bundle.js";

/** Which Worker is bundled, and where its paths start. */
export interface BundleOptions {
  /** Directory the script path is relative to; paths in errors and the source map are relative to it too. */
  rootDir: string;
  /** The Worker's name, for messages (the resource id or physical name). */
  workerName: string;
}

/** One build of a watched Worker: its bundle, or why it does not build. */
export interface WatchReport {
  bundle?: WorkerBundle;
  error?: BundleError;
}

/** A running watch; dispose it to stop watching. */
export interface WorkerWatch {
  /** Stops watching; no report is made after it resolves. */
  dispose(): Promise<void>;
}

/**
 * Bundles the Worker script `entry` (TypeScript or JavaScript, relative to
 * `options.rootDir` or absolute) with everything it imports, except
 * `cloudflare:*` and `node:*`, which the runtime provides.
 *
 * @throws BundleError naming the Worker: the script does not exist; it does not
 *   build (each esbuild error as `file:line:column: text`); esbuild is not installed.
 * @example
 * const { modules, inputs, hash } = await bundleWorker("./src/index.ts", { rootDir: "/abs/project", workerName: "api-worker" });
 * // modules: index.js (esm), index.js.map (sourcemap); inputs: ["/abs/project/src/index.ts", ...]
 */
export async function bundleWorker(entry: string, given: BundleOptions): Promise<WorkerBundle> {
  const options = absolute(given);
  const entryPath = await resolveEntry(entry, options);
  const esbuild = await loadEsbuild(options.workerName, () => importPeer("esbuild", options.rootDir));
  let result: BuildResult<ReturnType<typeof workerBuildOptions>>;
  try {
    result = await esbuild.build(workerBuildOptions(entryPath, options.rootDir));
  } catch (error) {
    throw asBundleError(error, options);
  }
  return toWorkerBundle(result, options);
}

/**
 * Watches the Worker script `entry` and everything it imports: `onChange` gets
 * the first build and every rebuild after an imported file changes, as a
 * bundle or as the error it does not build with (a later edit that fixes it is
 * reported as a bundle). A rebuild is reported even when its output is the
 * same; compare `bundle.hash` to skip a redeploy.
 *
 * Resolves once the first build has been reported. `onChange` is called
 * synchronously from esbuild's build loop; what it throws is rethrown outside
 * of it (an uncaught exception), not lost.
 *
 * @throws BundleError before watching when the script does not exist or esbuild is not installed.
 * @example
 * const watch = await watchWorker("./src/index.ts", { rootDir, workerName: "api-worker" }, ({ bundle, error }) => {
 *   if (error) console.error(error.message);
 *   else if (bundle.hash !== deployed) void redeploy(bundle);
 * });
 * // ... on Ctrl-C:
 * await watch.dispose();
 */
export async function watchWorker(entry: string, given: BundleOptions, onChange: (result: WatchReport) => void): Promise<WorkerWatch> {
  const options = absolute(given);
  const entryPath = await resolveEntry(entry, options);
  const esbuild = await loadEsbuild(options.workerName, () => importPeer("esbuild", options.rootDir));
  let disposed = false;
  let firstReported!: () => void;
  const firstBuild = new Promise<void>((resolve) => (firstReported = resolve));
  const reporter: Plugin = {
    name: "alchemy-worker-watch",
    setup(build) {
      build.onEnd((result) => {
        if (disposed) return;
        try {
          onChange(toReport(result, options));
        } catch (error) {
          // Thrown inside onEnd it would become a build error esbuild logs nowhere (logLevel silent).
          setImmediate(() => {
            throw error;
          });
        } finally {
          firstReported();
        }
      });
    },
  };
  const context = await esbuild
    .context({ ...workerBuildOptions(entryPath, options.rootDir), plugins: [reporter] })
    .catch((error: unknown) => Promise.reject(asBundleError(error, options)));
  try {
    await context.watch(); // starts with the first build, reported through onEnd
    await firstBuild;
  } catch (error) {
    await context.dispose();
    throw asBundleError(error, options);
  }
  return {
    async dispose() {
      disposed = true;
      await context.dispose();
    },
  };
}

/** esbuild needs an absolute working directory; a relative rootDir is taken from the current one. */
function absolute(options: BundleOptions): BundleOptions {
  return { ...options, rootDir: path.resolve(options.rootDir) };
}

function toReport(result: BuildResult, options: BundleOptions): WatchReport {
  if (result.errors.length > 0) return { error: buildFailed(options.workerName, options.rootDir, result.errors) };
  try {
    return { bundle: toWorkerBundle(result, options) };
  } catch (error) {
    if (error instanceof BundleError) return { error }; // an output a Worker cannot load
    throw error;
  }
}

/** esbuild rejects a failed build with a BuildFailure carrying its `errors`; anything else is passed on as it is. */
function asBundleError(error: unknown, options: BundleOptions): unknown {
  const errors = (error as { errors?: Message[] } | null)?.errors;
  if (Array.isArray(errors) && errors.length > 0) return buildFailed(options.workerName, options.rootDir, errors, error);
  return error;
}
