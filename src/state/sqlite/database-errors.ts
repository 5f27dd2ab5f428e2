/**
 * The errors of the SQLite store: what failed, where, and what to do about it.
 *
 * @module
 */
import { StateStoreError, toError } from "../../core/errors.js";

/**
 * Where a record lives: `<absolute database file>#<scope path>/<id>`.
 *
 * @example
 * recordLocation("/abs/state.sqlite", "app/dev/backend", "db"); // "/abs/state.sqlite#app/dev/backend/db"
 */
export function recordLocation(filename: string, scope: string, id: string): string {
  return `${filename}#${scope === "" ? "" : scope + "/"}${id}`;
}

/**
 * Where a stage's metadata lives: `<absolute database file>#stage_meta <app>/<stage>`.
 *
 * @example
 * stageMetaLocation("/abs/state.sqlite", "app", "dev"); // "/abs/state.sqlite#stage_meta app/dev"
 */
export function stageMetaLocation(filename: string, app: string, stage: string): string {
  return `${filename}#stage_meta ${app}/${stage}`;
}

/**
 * A {@link StateStoreError} for a SQLite call that failed with `error` while
 * `doing` something at `location`, with a fix suited to the SQLite error code.
 *
 * @example
 * throw databaseError("/abs/state.sqlite", "Cannot open the state database", error);
 */
export function databaseError(location: string, doing: string, error: unknown): StateStoreError {
  const cause = toError(error);
  return new StateStoreError(`${doing} (${location}): ${cause.message}. ${fixFor(error)}`, location, { cause: error });
}

/**
 * The error for a row whose body is not a state record; it names the row and
 * how to remove it, and nothing is changed.
 *
 * @example
 * throw corruptRow("/abs/state.sqlite", "app/dev", "api", "is not valid JSON (...)");
 */
export function corruptRow(filename: string, scope: string, id: string, what: string, cause?: unknown): StateStoreError {
  const location = recordLocation(filename, scope, id);
  return new StateStoreError(
    `State record ${location} ${what}. Nothing was changed. Restore the database from a backup, or remove the ` +
      `record (the resource it describes is then no longer tracked): ` +
      `sqlite3 ${JSON.stringify(filename)} "DELETE FROM records WHERE scope = '${scope}' AND id = '${id}'"`,
    location,
    cause === undefined ? undefined : { cause },
  );
}

function fixFor(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  switch (code) {
    case "SQLITE_BUSY":
    case "SQLITE_LOCKED":
      return (
        "Another process kept the database locked for too long; run again once it is done. " +
        "A process stopped in the middle of a write (Ctrl-Z, SIGSTOP, a suspended machine) keeps it locked until it is resumed or ended: " +
        "SQLite has no server that could end it (lsof or fuser on the file shows who has it open)."
      );
    case "SQLITE_FULL":
      return "The disk is full: free some space and run again.";
    case "SQLITE_READONLY":
    case "SQLITE_PERM":
    case "SQLITE_CANTOPEN":
    case "SQLITE_AUTH":
      return "Check that the file and its directory exist and belong to the user running alchemy (modes 0600 and 0700).";
    case "SQLITE_NOTADB":
      return "The file is not a SQLite database: choose another filename, or restore it from a backup.";
    case "SQLITE_CORRUPT":
      return "The database is damaged: restore it from a backup (`sqlite3 <file> .recover` may save its records).";
    default:
      return "Check the file with `sqlite3 <file> 'PRAGMA integrity_check'`, and restore it from a backup if it is damaged.";
  }
}
