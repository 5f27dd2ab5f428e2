/**
 * A Worker's script, as its resource names it (`script` or `entrypoint`),
 * resolved against the project's root before esbuild sees it: a missing file
 * is reported by the prop to fix, not as esbuild's "Could not resolve".
 *
 * @module
 */
import fs from "node:fs/promises";
import path from "node:path";
import { BundleError } from "./bundle-error.js";

/**
 * The absolute path of `entry` (relative to `rootDir`, or absolute).
 *
 * @throws BundleError naming the Worker, the script as given and as resolved, when it is not a file.
 * @example
 * await resolveEntry("./src/index.ts", { rootDir: "/abs/project", workerName: "api-worker" }); // "/abs/project/src/index.ts"
 */
export async function resolveEntry(entry: string, options: { rootDir: string; workerName: string }): Promise<string> {
  const resolved = path.resolve(options.rootDir, entry);
  const stat = await fs.stat(resolved).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
    throw new BundleError(`Worker "${options.workerName}": cannot read script ${entry} (${resolved}): ${error.message}`, options.workerName, [], { cause: error });
  });
  if (!stat) {
    throw new BundleError(
      `Worker "${options.workerName}": script ${entry} does not exist (resolved to ${resolved}). Fix the script (or entrypoint) prop.`,
      options.workerName,
    );
  }
  if (!stat.isFile()) {
    throw new BundleError(
      `Worker "${options.workerName}": script ${entry} is not a file (resolved to ${resolved}). Point the script (or entrypoint) prop at the Worker's entry module.`,
      options.workerName,
    );
  }
  return resolved;
}
