/**
 * The SQL of the stages' metadata in the PostgreSQL state store, over
 * `<schema>.stage_meta` (schema version 3, see `schema-migrations.ts`): one
 * row per stage that has metadata, its JSON text exactly as written.
 *
 * @module
 */
import { quoteIdent } from "./connection-string.js";

/** A change of a stage's metadata, committed in the write batch of its stage (see `state-database.ts`). */
export interface StageMetaWrite {
  kind: "stageMeta";
  app: string;
  stage: string;
  /** The metadata as JSON text, or `null` to remove it. */
  body: string | null;
}

/** The statements of one schema. */
export interface StageMetaQueries {
  /** `$1` app, `$2` stage -> `body`. */
  read: string;
  /** `$1` app, `$2` stage, `$3` body: inserts or replaces the stage's row. */
  write: string;
  /** `$1` app, `$2` stage: removes the stage's row, if any. */
  remove: string;
}

/**
 * The statements over the stage_meta table of `schema`.
 *
 * @example
 * const sql = stageMetaQueries("alchemy");
 * await pool.query(sql.read, ["my-app", "prod"]);
 */
export function stageMetaQueries(schema: string): StageMetaQueries {
  const table = `${quoteIdent(schema)}.stage_meta`;
  return {
    read: `SELECT body FROM ${table} WHERE app = $1 AND stage = $2`,
    write:
      `INSERT INTO ${table} AS m (app, stage, body, updated_at) VALUES ($1, $2, $3, now()) ` +
      `ON CONFLICT (app, stage) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
    remove: `DELETE FROM ${table} WHERE app = $1 AND stage = $2`,
  };
}
