/**
 * The drivers of the SQL and cloud stores are optional peer dependencies,
 * loaded the first time a store opens a database rather than when its module
 * is imported: naming a store (a store URL, `ALCHEMY_STATE_STORE`) never needs
 * a driver the run does not use.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { AlchemyError } from "../core/errors.js";
import { requirePeer } from "../core/peer-dependency.js";

/** The drivers the SQL and cloud stores use, by package name. */
export interface Drivers {
  "better-sqlite3": typeof import("better-sqlite3");
  pg: typeof import("pg");
  "@aws-sdk/client-s3": typeof import("@aws-sdk/client-s3");
  "@aws-sdk/client-dynamodb": typeof import("@aws-sdk/client-dynamodb");
}

/**
 * Why a driver is pinned to the exact version package.json names: npm
 * refuses another version than a peer dependency's, and a later one may not
 * do. A driver not listed here is installed at whatever version npm picks.
 */
const PINNED_BECAUSE: Partial<Record<keyof Drivers, string>> = {
  "@aws-sdk/client-s3": "AWS SDK releases from January 2027 require Node 22",
  "@aws-sdk/client-dynamodb": "AWS SDK releases from January 2027 require Node 22",
};

/**
 * Loads the driver package `name` (each has a CommonJS build, so synchronously).
 *
 * @throws AlchemyError saying which store needs it and the command that installs it (see {@link installCommand}).
 * @example
 * const Sqlite = loadDriver("better-sqlite3", "The SQLite state store");
 */
export function loadDriver<Name extends keyof Drivers>(name: Name, store: string): Drivers[Name] {
  try {
    return requirePeer<Drivers[Name]>(name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw error;
    const why = PINNED_BECAUSE[name];
    throw new AlchemyError(
      `${store} needs the ${name} package, which is not installed. Add it to the project: ${installCommand(name)}` +
        (why === undefined ? "" : ` (the version alchemy is tested with and names as its peer dependency: ${why})`),
      { cause: error },
    );
  }
}

/**
 * The command that installs driver `name`: for a pinned driver, at the
 * version this package's package.json names (peerDependencies, else
 * devDependencies), which is the one version kept.
 *
 * @example
 * installCommand("@aws-sdk/client-dynamodb"); // "npm install @aws-sdk/client-dynamodb@3.1178.0"
 * installCommand("pg"); // "npm install pg"
 */
export function installCommand(name: keyof Drivers): string {
  if (PINNED_BECAUSE[name] === undefined) return `npm install ${name}`;
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    peerDependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const version = pkg.peerDependencies?.[name] ?? pkg.devDependencies?.[name];
  return `npm install ${name}${version === undefined ? "" : `@${version}`}`;
}
