/**
 * The SQL of the PostgreSQL state store, over `<schema>.records` (see
 * `schema-migrations.ts`). Every statement is parameterized; the schema name,
 * already validated, is the only text spliced in.
 *
 * @module
 */
import { quoteIdent } from "./connection-string.js";

/** One change of a write batch: a record's new JSON text, or `null` to delete it. */
export interface RecordWrite {
  scope: string;
  id: string;
  body: string | null;
}

/** The statements of one schema. */
export interface RecordQueries {
  /** `$1` scope, `$2` ids -> `id, body`. */
  getMany: string;
  /** `$1` scope -> `id`. */
  list: string;
  /** `$1` scope -> `id, body`. */
  all: string;
  /** `$1` scope -> `count`. */
  count: string;
  /** `$1` scope -> `at` (newest `updated_at`, or null). */
  updatedAt: string;
  /** `$1` scope + "/", `$2` scope + "0" -> `name` of each direct child scope holding records below. */
  childScopes: string;
  /** -> `name` of every application (chain of length 0). */
  rootScopes: string;
  /** `$1..$3` scopes, ids and bodies to upsert; `$4..$5` scopes and ids to delete. One atomic statement. */
  write: string;
}

/**
 * The statements over the records table of `schema`.
 *
 * @example
 * const sql = recordQueries("alchemy");
 * await pool.query(sql.getMany, ["my-app/dev", ["api", "web"]]);
 */
export function recordQueries(schema: string): RecordQueries {
  const records = `${quoteIdent(schema)}.records`;
  return {
    getMany: `SELECT id, body FROM ${records} WHERE scope = $1 AND id = ANY($2::text[])`,
    list: `SELECT id FROM ${records} WHERE scope = $1`,
    all: `SELECT id, body FROM ${records} WHERE scope = $1`,
    count: `SELECT count(*)::int AS count FROM ${records} WHERE scope = $1`,
    updatedAt: `SELECT max(updated_at) AS at FROM ${records} WHERE scope = $1`,
    // Every scope below "p" sorts (bytewise) after "p/" and before "p0", since "0" follows "/":
    // a range on the primary key, with no LIKE whose "_" and "%" are legal in names.
    childScopes:
      `SELECT DISTINCT split_part(substr(scope, char_length($1::text) + 1), '/', 1) AS name FROM ${records} ` +
      `WHERE scope > $1::text COLLATE "C" AND scope < $2::text COLLATE "C"`,
    rootScopes: `SELECT DISTINCT split_part(scope, '/', 1) AS name FROM ${records}`,
    // One statement, so one batch is atomic without a transaction round trip. Rows are upserted in key
    // order so that two writers lock shared rows in the same order. The stage lock check is not here: a
    // fenced stage runs this statement in a transaction after reading its lock row FOR SHARE (state-database.ts),
    // which, unlike an EXISTS in this statement's snapshot, also holds off a takeover until the batch commits.
    write:
      `WITH removed AS (` +
      `DELETE FROM ${records} AS r USING unnest($4::text[], $5::text[]) AS d(scope, id) ` +
      `WHERE r.scope = d.scope AND r.id = d.id) ` +
      `INSERT INTO ${records} AS r (scope, id, body, updated_at) ` +
      `SELECT w.scope, w.id, w.body, now() FROM unnest($1::text[], $2::text[], $3::text[]) AS w(scope, id, body) ` +
      `ORDER BY w.scope COLLATE "C", w.id COLLATE "C" ` +
      `ON CONFLICT (scope, id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
  };
}

/**
 * The parameters of {@link RecordQueries.write} for a batch whose keys are distinct.
 *
 * @example
 * pool.query(sql.write, writeParams([{ scope: "app/dev", id: "api", body: "{...}" }]));
 */
export function writeParams(batch: readonly RecordWrite[]): [string[], string[], string[], string[], string[]] {
  const params: [string[], string[], string[], string[], string[]] = [[], [], [], [], []];
  for (const { scope, id, body } of batch) {
    if (body === null) {
      params[3].push(scope);
      params[4].push(id);
    } else {
      params[0].push(scope);
      params[1].push(id);
      params[2].push(body);
    }
  }
  return params;
}
