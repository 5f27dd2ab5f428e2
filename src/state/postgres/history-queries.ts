/**
 * The SQL of the stages' history in the PostgreSQL state store, over
 * `<schema>.stage_history` (schema version 4, see `schema-migrations.ts`):
 * one row per kept entry, its JSON text and its snapshot (`bytea`).
 *
 * @module
 */
import { quoteIdent } from "./connection-string.js";

/** The statements of one schema. */
export interface HistoryQueries {
  /** `$1` app, `$2` stage, `$3` limit (NULL: all) -> `run`, `entry`, newest first. */
  list: string;
  /** `$1` app, `$2` stage, `$3` run -> `snapshot`. */
  snapshot: string;
  /** `$1` app, `$2` stage, `$3` run, `$4` entry, `$5` snapshot: inserts or replaces the entry. */
  write: string;
  /** `$1` app, `$2` stage, `$3` runs (text[]): removes those entries. */
  remove: string;
}

/**
 * The statements over the stage_history table of `schema`.
 *
 * @example
 * const sql = historyQueries("alchemy");
 * await pool.query(sql.list, ["my-app", "prod", 10]);
 */
export function historyQueries(schema: string): HistoryQueries {
  const table = `${quoteIdent(schema)}.stage_history`;
  return {
    list: `SELECT run, entry FROM ${table} WHERE app = $1 AND stage = $2 ORDER BY run DESC LIMIT $3`,
    snapshot: `SELECT snapshot FROM ${table} WHERE app = $1 AND stage = $2 AND run = $3`,
    write:
      `INSERT INTO ${table} (app, stage, run, entry, snapshot, updated_at) VALUES ($1, $2, $3, $4, $5, now()) ` +
      `ON CONFLICT (app, stage, run) DO UPDATE SET entry = excluded.entry, snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
    remove: `DELETE FROM ${table} WHERE app = $1 AND stage = $2 AND run = ANY($3::text[])`,
  };
}
