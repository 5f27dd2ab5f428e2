/**
 * The drivers of the SQL and cloud stores are optional peer dependencies,
 * loaded the first time a store opens a database rather than when its module
 * is imported: naming a store (a store URL, `ALCHEMY_STATE_STORE`) never needs
 * a driver the run does not use.
 *
 * @module
 */
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
 * Loads the driver package `name` (each has a CommonJS build, so synchronously).
 *
 * @throws AlchemyError saying which store needs it and how to install it.
 * @example
 * const Sqlite = loadDriver("better-sqlite3", "The SQLite state store");
 */
export function loadDriver<Name extends keyof Drivers>(name: Name, store: string): Drivers[Name] {
  try {
    return requirePeer<Drivers[Name]>(name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw error;
    throw new AlchemyError(`${store} needs the ${name} package, which is not installed. Add it to the project: npm install ${name}`, { cause: error });
  }
}
