/**
 * The tables of the PostgreSQL state store, versioned and migrated forward.
 *
 * Version 1:
 * ```
 * <schema>.schema_version (version, applied_at)      one row per applied migration
 * <schema>.records (scope, id, body, updated_at)     one row per resource record, every app and stage
 * ```
 * `scope` is the scope chain joined with `/` (`my-app/prod/backend`), `body`
 * the record's JSON text exactly as written (a `text` column rather than
 * `jsonb`, which would reorder keys and cannot hold `\u0000`). Both key columns
 * are `COLLATE "C"` so that ranges over `scope` are bytewise.
 *
 * Version 2 adds the stage locks (see `stage-lock-table.ts`):
 * ```
 * <schema>.stage_locks (app, stage, id, token, holder, acquired_at, heartbeat_at, lease_ms)
 * ```
 * one row per stage ever locked, kept after release with `id` (and the holder,
 * times and lease) NULL, so that `token`, the fencing token, grows with every
 * acquisition. Times are the database's (`now()`), so that machines whose
 * clocks differ judge leases alike. Code that knows only version 1 refuses a
 * version 2 schema (it would write without checking the locks).
 *
 * Version 3 adds the stages' metadata (see `stage-meta-queries.ts`):
 * ```
 * <schema>.stage_meta (app, stage, body, updated_at)  one row per stage that has metadata
 * ```
 * `body` is the metadata's JSON text exactly as written (`text`, like a
 * record's body), keys `COLLATE "C"` like the other tables. It is apart from
 * `records`, so a stage with metadata only holds no record and is not listed.
 *
 * Version 4 adds the stages' history (see `history-queries.ts`):
 * ```
 * <schema>.stage_history (app, stage, run, entry, snapshot, updated_at)  one row per kept entry
 * ```
 * `entry` is the entry's JSON text, `snapshot` the engine's bytes (`bytea`).
 *
 * @module
 */
import type pg from "pg";
import { withClient } from "./checked-out-client.js";
import { StateStoreError } from "../../core/errors.js";
import { quoteIdent, type DatabaseTarget } from "./connection-string.js";

/** One step forward of the schema. */
interface Migration {
  version: number;
  statements(schema: string): string[];
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: (s) => [
      `CREATE TABLE ${s}.records (
         scope text COLLATE "C" NOT NULL,
         id text COLLATE "C" NOT NULL,
         body text NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (scope, id)
       )`,
    ],
  },
  {
    version: 2,
    statements: (s) => [
      `CREATE TABLE ${s}.stage_locks (
         app text COLLATE "C" NOT NULL,
         stage text COLLATE "C" NOT NULL,
         id text,
         token bigint NOT NULL,
         holder jsonb,
         acquired_at timestamptz,
         heartbeat_at timestamptz,
         lease_ms integer,
         PRIMARY KEY (app, stage),
         CHECK (id IS NULL OR (holder IS NOT NULL AND acquired_at IS NOT NULL AND heartbeat_at IS NOT NULL AND lease_ms IS NOT NULL))
       )`,
    ],
  },
  {
    version: 3,
    statements: (s) => [
      `CREATE TABLE ${s}.stage_meta (
         app text COLLATE "C" NOT NULL,
         stage text COLLATE "C" NOT NULL,
         body text NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (app, stage)
       )`,
    ],
  },
  {
    version: 4,
    statements: (s) => [
      `CREATE TABLE ${s}.stage_history (
         app text COLLATE "C" NOT NULL,
         stage text COLLATE "C" NOT NULL,
         run text COLLATE "C" NOT NULL,
         entry text NOT NULL,
         snapshot bytea NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (app, stage, run)
       )`,
    ],
  },
];

/** The newest schema version this code knows and migrates to. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** First key of the advisory lock that serializes migrations ("alch"); the second is the schema's hash. */
const MIGRATION_LOCK_CLASS = 0x616c6368;

/** SQLSTATEs of "no such table" and "no such schema". */
const MISSING = new Set(["42P01", "3F000"]);

/**
 * Brings the state tables of `target.schema` to {@link SCHEMA_VERSION},
 * creating the schema on first use. Safe to call from many processes at once:
 * the work runs in one transaction holding an advisory lock, so one process
 * migrates and the others find the tables done. Resolves the version found.
 *
 * @throws StateStoreError when the database is at a newer version than this code knows.
 * @example
 * await migrateSchema(pool, target); // the version found before, e.g. 0 for a new schema
 */
export async function migrateSchema(pool: pg.Pool, target: DatabaseTarget): Promise<number> {
  const schema = quoteIdent(target.schema);
  const found = await readVersion(pool, schema);
  if (found !== undefined && found >= SCHEMA_VERSION) return checkVersion(found, target);
  return withClient(pool, async (client, connection) => {
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [MIGRATION_LOCK_CLASS, target.schema]);
      // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
      const exists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [target.schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${schema}.schema_version (
           version integer PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const current = await readVersion(client, schema);
      checkVersion(current ?? 0, target);
      for (const migration of MIGRATIONS.filter((m) => m.version > (current ?? 0))) {
        for (const statement of migration.statements(schema)) await client.query(statement);
        await client.query(`INSERT INTO ${schema}.schema_version (version) VALUES ($1)`, [migration.version]);
      }
      await client.query("COMMIT");
      return current ?? 0;
    } catch (error) {
      await client.query("ROLLBACK").catch(connection.markBroken);
      throw error;
    }
  });
}

/** The highest applied version, or `undefined` when the schema or its version table does not exist. */
async function readVersion(db: pg.Pool | pg.PoolClient, schema: string): Promise<number | undefined> {
  try {
    const result = await db.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${schema}.schema_version`);
    return result.rows[0]?.version ?? 0;
  } catch (error) {
    if (MISSING.has((error as { code?: string }).code ?? "")) return undefined;
    throw error;
  }
}

function checkVersion(version: number, target: DatabaseTarget): number {
  if (version <= SCHEMA_VERSION) return version;
  throw new StateStoreError(
    `The state schema "${target.schema}" at ${target.server} is at version ${version}, but this version of alchemy ` +
      `knows versions up to ${SCHEMA_VERSION}. Nothing was read or written. Upgrade alchemy to the version that ` +
      `migrated it (every program and CI job that uses this state), or point this one at another schema.`,
    `${target.server}#${target.schema}.schema_version`,
  );
}
