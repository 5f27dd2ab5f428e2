/**
 * The layout of an alchemy SQLite state database and the runner that brings a
 * database forward to it.
 *
 * ```sql
 * meta(key TEXT PRIMARY KEY, value TEXT)            -- 'schema_version' -> '3'
 * records(scope TEXT, id TEXT, body TEXT, updated_at INTEGER,
 *         PRIMARY KEY (scope, id)) WITHOUT ROWID    -- one row per resource
 * stage_locks(app TEXT, stage TEXT, id TEXT NULL, token INTEGER,
 *         holder TEXT NULL, acquired_at INTEGER, heartbeat_at INTEGER,
 *         lease_ms INTEGER, PRIMARY KEY (app, stage)) WITHOUT ROWID
 * stage_meta(app TEXT, stage TEXT, body TEXT, updated_at INTEGER,
 *         PRIMARY KEY (app, stage)) WITHOUT ROWID       -- version 3
 * stage_history(app TEXT, stage TEXT, run TEXT, entry TEXT, snapshot BLOB,
 *         updated_at INTEGER, PRIMARY KEY (app, stage, run)) -- version 4
 * ```
 *
 * `scope` is the scope path (`my-app/prod/backend`), `body` the record as
 * compact JSON, `updated_at` the commit time in ms since the epoch.
 *
 * `stage_locks` holds one row per stage ever locked (see stage-locks.ts):
 * `id` is the current acquisition (NULL when free), `holder` its
 * `LockHolder` as JSON, times in ms since the epoch. The row outlives
 * its lock so that `token`, the fencing token, grows with every acquisition.
 *
 * `stage_meta` holds one row per stage that has metadata (`StageMeta`, e.g.
 * the salt and verifier of its secrets): `body` is its JSON text exactly as
 * written, `updated_at` the commit time. It is apart from `records`, so a
 * stage with metadata only is neither listed nor counted as holding records.
 *
 * `stage_history` holds one row per kept entry of a stage's history
 * (`HistoryItem`): `entry` its JSON text, `snapshot` the engine's bytes.
 * Apart from `records` too, and outliving them (it says who destroyed a stage).
 *
 * @module
 */
import type { Database } from "better-sqlite3";
import { StateStoreError, toError } from "../../core/errors.js";

/** Table of the records, keyed by (scope path, id). */
export const RECORDS_TABLE = "records";
/** Key/value table of facts about the database itself, such as its schema version. */
export const META_TABLE = "meta";
/** Table of the stage locks, keyed by (app, stage); written by stage-locks.ts. */
export const STAGE_LOCKS_TABLE = "stage_locks";
/** Table of the stages' metadata, keyed by (app, stage). */
export const STAGE_META_TABLE = "stage_meta";
/** Table of the stages' history entries, keyed by (app, stage, run). */
export const STAGE_HISTORY_TABLE = "stage_history";

/** One step forward of the schema; `up` runs inside the migration's transaction. */
export interface Migration {
  /** The version the database has once `up` has run: 1, 2, 3... with no gaps. */
  version: number;
  /** What the step changes, for error messages. */
  description: string;
  up(db: Database): void;
}

/**
 * Every migration, oldest first. Add a step at the end to change the schema;
 * never edit a released one, databases in the field have run it.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "create the records table",
    up(db) {
      db.exec(
        `CREATE TABLE ${RECORDS_TABLE} (
           scope TEXT NOT NULL,
           id TEXT NOT NULL,
           body TEXT NOT NULL,
           updated_at INTEGER NOT NULL,
           PRIMARY KEY (scope, id)
         ) WITHOUT ROWID`,
      );
    },
  },
  {
    version: 2,
    description: "create the stage_locks table",
    up(db) {
      db.exec(
        `CREATE TABLE ${STAGE_LOCKS_TABLE} (
           app TEXT NOT NULL,
           stage TEXT NOT NULL,
           id TEXT,
           token INTEGER NOT NULL,
           holder TEXT,
           acquired_at INTEGER,
           heartbeat_at INTEGER,
           lease_ms INTEGER,
           PRIMARY KEY (app, stage)
         ) WITHOUT ROWID`,
      );
    },
  },
  {
    version: 3,
    description: "create the stage_meta table",
    up(db) {
      db.exec(
        `CREATE TABLE ${STAGE_META_TABLE} (
           app TEXT NOT NULL,
           stage TEXT NOT NULL,
           body TEXT NOT NULL,
           updated_at INTEGER NOT NULL,
           PRIMARY KEY (app, stage)
         ) WITHOUT ROWID`,
      );
    },
  },
  {
    version: 4,
    description: "create the stage_history table",
    up(db) {
      // A rowid table: snapshots are blobs of up to megabytes, which WITHOUT ROWID tables store badly.
      db.exec(
        `CREATE TABLE ${STAGE_HISTORY_TABLE} (
           app TEXT NOT NULL,
           stage TEXT NOT NULL,
           run TEXT NOT NULL,
           entry TEXT NOT NULL,
           snapshot BLOB NOT NULL,
           updated_at INTEGER NOT NULL,
           PRIMARY KEY (app, stage, run)
         )`,
      );
    },
  },
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * The schema version recorded in `db`: 0 for a database alchemy never touched.
 *
 * @example
 * schemaVersion(db); // 3
 */
export function schemaVersion(db: Database): number {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(META_TABLE);
  if (hasMeta === undefined) return 0;
  const value = db.prepare(`SELECT value FROM ${META_TABLE} WHERE key = 'schema_version'`).pluck().get();
  return value === undefined ? 0 : Number(value);
}

/**
 * Brings `db` (the database file `filename`) up to the newest of `migrations`,
 * each step in one transaction with the version it reaches, so a crash leaves
 * the database at a whole version. Several processes may migrate at once: the
 * write lock serializes them and the later ones find nothing left to do.
 *
 * @throws StateStoreError naming `filename` when the database was written by
 *   newer code (a version this code does not know), or when a step fails.
 * @example
 * migrate(db, "/abs/.alchemy/state.sqlite");
 */
export function migrate(db: Database, filename: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  migrations.forEach((step, i) => {
    if (step.version !== i + 1) throw new Error(`Migration ${i} has version ${step.version}, expected ${i + 1}.`);
  });
  const current = checkVersion(db, filename, latest);
  if (current === latest) return;
  for (const step of migrations.slice(current)) {
    try {
      db.transaction(() => {
        // Another process may have migrated between our read and our write lock.
        if (checkVersion(db, filename, latest) >= step.version) return;
        db.exec(`CREATE TABLE IF NOT EXISTS ${META_TABLE} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID`);
        step.up(db);
        db.prepare(`INSERT INTO ${META_TABLE} (key, value) VALUES ('schema_version', ?)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(String(step.version));
      }).immediate();
    } catch (error) {
      if (error instanceof StateStoreError) throw error;
      throw new StateStoreError(
        `Cannot bring the state database ${filename} to schema version ${step.version} (${step.description}): ` +
          `${toError(error).message}. Nothing of this step was applied. If the file is not an alchemy state database, ` +
          `choose another filename; otherwise restore it from a backup.`,
        filename,
        { cause: error },
      );
    }
  }
}

/** The recorded version, after refusing one newer than `latest`. */
function checkVersion(db: Database, filename: string, latest: number): number {
  const current = schemaVersion(db);
  if (Number.isInteger(current) && current >= 0 && current <= latest) return current;
  if (!Number.isInteger(current) || current < 0) {
    throw new StateStoreError(
      `The state database ${filename} records a schema version that is not a version number. ` +
        `It is damaged or not an alchemy state database: restore it from a backup or choose another filename.`,
      filename,
    );
  }
  throw new StateStoreError(
    `The state database ${filename} has schema version ${current}, but this version of alchemy knows ` +
      `versions up to ${latest}. It was written by a newer alchemy: upgrade alchemy to use it. Nothing was changed.`,
    filename,
  );
}
