/**
 * One {@link StateDatabase} (one `pg.Pool`) per connection string and schema
 * per process, shared by every PostgreSQL state store and closed when the last
 * one lets go.
 *
 * @module
 */
import type { DatabaseTarget } from "./connection-string.js";
import { StateDatabase } from "./state-database.js";

interface Slot {
  database: StateDatabase;
  refs: number;
}

/** Databases in use, by connection string and schema. */
const open = new Map<string, Slot>();

/**
 * The shared backend of `target`, made on first use. Pair each call with one
 * {@link releaseDatabase}.
 *
 * @example
 * const db = acquireDatabase(target);
 * try { await db.ready(); } finally { await releaseDatabase(db); }
 */
export function acquireDatabase(target: DatabaseTarget): StateDatabase {
  const key = keyOf(target);
  let slot = open.get(key);
  if (slot === undefined) {
    slot = { database: new StateDatabase(target), refs: 0 };
    open.set(key, slot);
  }
  slot.refs++;
  return slot.database;
}

/**
 * Lets go of a database from {@link acquireDatabase}; the last release waits
 * for its writes in flight and closes its connections. A later acquire opens
 * a new pool.
 *
 * @example
 * await releaseDatabase(db);
 */
export async function releaseDatabase(database: StateDatabase): Promise<void> {
  const key = keyOf(database.target);
  const slot = open.get(key);
  if (slot?.database !== database || --slot.refs > 0) return;
  open.delete(key);
  await database.close();
}

/**
 * How many stores hold the database of `target` in this process (0 when it is closed).
 *
 * @example
 * openReferences(target); // 2
 */
export function openReferences(target: DatabaseTarget): number {
  return open.get(keyOf(target))?.refs ?? 0;
}

function keyOf(target: DatabaseTarget): string {
  return `${target.connectionString}\u0000${target.schema}`;
}
