/**
 * Opening a state database file: private file and directories, WAL, full
 * sync, a busy timeout so processes can share it, and the schema migrated.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import type { Database } from "better-sqlite3";
import { StateStoreError } from "../../core/errors.js";
import { FILE_MODE, ensureDir, errorCode, fsyncPath } from "../fs/durable-files.js";
import { UNFENCED } from "../fs/stage-writes.js";
import { databaseError } from "./database-errors.js";
import { migrate } from "./schema.js";
import { loadDriver } from "../optional-driver.js";

/** How long a connection waits for another process's write lock before failing. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (creating if needed) the state database `filename`, an absolute path.
 * A new file and its missing parent directories get modes 0600 and 0700
 * whatever the umask; SQLite gives its `-wal` and `-shm` files the mode of the
 * database. Existing files keep their modes.
 *
 * @throws StateStoreError naming `filename` when it cannot be opened, is not a
 *   SQLite database, cannot use WAL, or has a schema newer than this code.
 * @example
 * const db = openStateDatabase("/abs/.alchemy/state.sqlite");
 */
export function openStateDatabase(filename: string): Database {
  try {
    // The database's directory and those above it are the user's to link elsewhere.
    ensureDir(path.dirname(filename), UNFENCED, path.dirname(filename));
    createPrivateFile(filename);
  } catch (error) {
    throw databaseError(filename, "Cannot create the state database file", error);
  }
  const Sqlite = loadDriver("better-sqlite3", "The SQLite state store");
  let db: Database;
  try {
    db = new Sqlite(filename, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw databaseError(filename, "Cannot open the state database", error);
  }
  try {
    configure(db, filename);
    migrate(db, filename);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StateStoreError) throw error;
    throw databaseError(filename, "Cannot open the state database", error);
  }
}

function configure(db: Database, filename: string): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const mode = db.pragma("journal_mode = WAL", { simple: true });
  if (String(mode).toLowerCase() !== "wal") {
    throw new StateStoreError(
      `The state database ${filename} cannot use write-ahead logging (journal mode is "${String(mode)}"). ` +
        `Keep it on a local disk (not a network share) where SQLite can create ${path.basename(filename)}-wal beside it.`,
      filename,
    );
  }
  // FULL: a commit is fsynced before it returns, so a write is durable once its promise resolves.
  db.pragma("synchronous = FULL");
}

/** Creates an empty `file` with mode 0600 unless it exists, and makes its directory entry durable. */
function createPrivateFile(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", FILE_MODE);
  } catch (error) {
    if (errorCode(error) === "EEXIST") return;
    throw error;
  }
  try {
    fs.fchmodSync(fd, FILE_MODE);
  } finally {
    fs.closeSync(fd);
  }
  fsyncPath(path.dirname(file), true); // the database's directory may be a link the user chose
}
