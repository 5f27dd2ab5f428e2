/**
 * Where an optional peer dependency (better-sqlite3, pg, miniflare, esbuild)
 * is found: in the user's project first, then beside this package. A project
 * that depends on alchemy by a `file:` path gets a link to it, and Node
 * resolves from the link's target, where the project's packages are not: so
 * a package the project installed would not be found from alchemy's own files.
 *
 * @module
 */
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const own = createRequire(import.meta.url);

/**
 * The entry file of package `name` as the project at `projectDir` resolves
 * it, else as this package does; `undefined` when neither has it.
 * @example
 * resolvePeer("pg", process.cwd()); // "/home/ada/app/node_modules/pg/lib/index.js"
 */
export function resolvePeer(name: string, projectDir: string = process.cwd()): string | undefined {
  for (const resolver of [createRequire(path.join(path.resolve(projectDir), "package.json")), own]) {
    try {
      return resolver.resolve(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw error;
    }
  }
  return undefined;
}

/** `require` of a CommonJS peer, found as {@link resolvePeer} says; throws MODULE_NOT_FOUND when neither has it. */
export function requirePeer<T>(name: string, projectDir?: string): T {
  return own(resolvePeer(name, projectDir) ?? name) as T;
}

/** `import()` of a peer, found as {@link resolvePeer} says; rejects as `import(name)` would when neither has it. */
export function importPeer<T>(name: string, projectDir?: string): Promise<T> {
  const found = resolvePeer(name, projectDir);
  return (found === undefined ? import(name) : import(pathToFileURL(found).href)) as Promise<T>;
}
