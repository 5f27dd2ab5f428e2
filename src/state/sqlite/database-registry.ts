/**
 * One {@link StateDatabase} per database file per process, shared by every
 * SQLite store of that file and closed when the last one lets go.
 *
 * @module
 */
import { StateDatabase } from "./state-database.js";

interface Slot {
  database: StateDatabase;
  refs: number;
}

/** Databases in use, by absolute file name. */
const open = new Map<string, Slot>();

/**
 * The database in `filename` (an absolute path), opened and migrated on first
 * use. Each call must be paired with one {@link releaseDatabase}.
 *
 * @throws StateStoreError naming `filename` when it cannot be opened; nothing is then held.
 * @example
 * const db = acquireDatabase("/abs/.alchemy/state.sqlite");
 * try { db.ids("app/dev"); } finally { releaseDatabase(db); }
 */
export function acquireDatabase(filename: string): StateDatabase {
  let slot = open.get(filename);
  if (slot === undefined) {
    slot = { database: new StateDatabase(filename), refs: 0 };
    open.set(filename, slot);
  }
  slot.refs++;
  return slot.database;
}

/**
 * Lets go of a database from {@link acquireDatabase}; the last release commits
 * its queued writes and closes the connection.
 *
 * @example
 * releaseDatabase(db);
 */
export function releaseDatabase(database: StateDatabase): void {
  const slot = open.get(database.filename);
  if (slot?.database !== database || --slot.refs > 0) return;
  open.delete(database.filename);
  database.close();
}

/**
 * How many holders the database of `filename` has in this process (0 when it is closed).
 *
 * @example
 * openDatabaseRefs("/abs/.alchemy/state.sqlite"); // 2
 */
export function openDatabaseRefs(filename: string): number {
  return open.get(filename)?.refs ?? 0;
}
