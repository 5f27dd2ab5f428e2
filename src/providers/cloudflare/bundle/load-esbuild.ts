/**
 * esbuild is an optional peer dependency: it is loaded the first time a Worker
 * is bundled, never when the Cloudflare provider is imported, so a program
 * that bundles nothing (or a remote-only tool that reads state) needs no
 * esbuild.
 *
 * @module
 */
import { importPeer } from "../../../core/peer-dependency.js";
import { BundleError } from "./bundle-error.js";

/** The esbuild module, as `import("esbuild")` resolves it. */
export type Esbuild = typeof import("esbuild");

/**
 * Loads esbuild for `workerName`'s bundle.
 *
 * @param importEsbuild How to import it; a test passes one that fails.
 * @default importEsbuild `() => import("esbuild")`
 * @throws BundleError saying to `npm install esbuild` when the package is not installed.
 * @example
 * const esbuild = await loadEsbuild("api-worker");
 */
export async function loadEsbuild(workerName: string, importEsbuild: () => Promise<Esbuild> = () => importPeer<Esbuild>("esbuild")): Promise<Esbuild> {
  try {
    return await importEsbuild();
  } catch (error) {
    if (!isEsbuildMissing(error)) throw error;
    throw new BundleError(
      `Worker "${workerName}" cannot be bundled: the esbuild package is not installed (an optional peer dependency of alchemy's Cloudflare provider). ` +
        `Add it to the project: npm install esbuild`,
      workerName,
      [],
      { cause: error },
    );
  }
}

/** The package itself is missing, not a module esbuild imports (that is a broken install, reported as it is). */
function isEsbuildMissing(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && typeof message === "string" && /['"]esbuild['"]/.test(message);
}
