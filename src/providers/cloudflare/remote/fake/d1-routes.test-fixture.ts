/**
 * Routes of D1: create, list (paged, default 1000 a page; `name` filters by substring, so a
 * client must still compare names exactly), get, delete, and `query`, which runs the SQL for
 * real on an in-memory SQLite database per D1 database.
 *
 * `query` splits `sql` into statements and runs them in one transaction (all or nothing),
 * answering one result per statement. `params` bind the single statement (`?` or `?NNN`);
 * booleans bind as 0/1. `rows_read`/`rows_written` are approximations (rows returned / rows
 * changed), not SQLite's counters. Not modelled: `/raw`, export/import, time travel, read
 * replication, jurisdictions, D1's limits and its refusal of explicit transactions.
 */
import Sqlite from "better-sqlite3";
import type { Database } from "better-sqlite3";
import { randomUUID } from "node:crypto";
import { splitSql } from "../../local/split-sql.js";
import { CODES } from "./error-codes.test-fixture.js";
import { fail, ok, paginate, type RouteResponse } from "./envelope.test-fixture.js";
import { nowIso, type FakeD1Database } from "./fake-state.test-fixture.js";
import type { Route, RouteContext } from "./router.test-fixture.js";
import { isRecord } from "./worker-upload.test-fixture.js";

const LOCATION_HINTS = ["wnam", "enam", "weur", "eeur", "apac", "oc"];
const DATABASE = "/accounts/:account_id/d1/database/:database_id";

/** The routes of D1 databases. */
export const d1Routes: readonly Route[] = [
  { method: "POST", pattern: "/accounts/:account_id/d1/database", permission: "D1 Write", body: "json", handle: createDatabase },
  {
    method: "GET",
    pattern: "/accounts/:account_id/d1/database",
    permission: "D1 Read",
    body: "none",
    handle: ({ state, accountId, query }) => {
      const name = query.get("name");
      const matching = [...state.d1Databases.values()].filter((database) => database.accountId === accountId && (name === null || database.name.includes(name)));
      const { items, info } = paginate(matching, query, { defaultPerPage: 1000, minPerPage: 10, maxPerPage: 10_000 });
      return ok(
        items.map((database) => ({ uuid: database.uuid, name: database.name, version: "production", created_at: database.createdAt })),
        info,
      );
    },
  },
  {
    method: "GET",
    pattern: DATABASE,
    permission: "D1 Read",
    body: "none",
    handle: (context) => withDatabase(context, true, (database) => ok(details(database))),
  },
  {
    method: "DELETE",
    pattern: DATABASE,
    permission: "D1 Write",
    body: "none",
    handle: (context) =>
      withDatabase(context, false, (database) => {
        database.db.close();
        context.state.d1Databases.delete(database.uuid);
        context.state.createdAt.delete(`d1_database:${database.uuid}`);
        return ok(null);
      }),
  },
  {
    method: "POST",
    pattern: `${DATABASE}/query`,
    permission: "D1 Write",
    body: "json",
    handle: (context) => withDatabase(context, false, (database) => runQuery(database.db, context.json)),
  },
];

function createDatabase({ state, accountId, json, created }: RouteContext): RouteResponse {
  if (!isRecord(json) || typeof json.name !== "string" || json.name.trim() === "") return fail(400, CODES.d1Invalid, "The body must be { name: string, primary_location_hint?: string }");
  const hint = json.primary_location_hint;
  if (hint !== undefined && (typeof hint !== "string" || !LOCATION_HINTS.includes(hint))) {
    return fail(400, CODES.d1Invalid, `primary_location_hint must be one of ${LOCATION_HINTS.join(", ")}`);
  }
  const name = json.name;
  if ([...state.d1Databases.values()].some((database) => database.accountId === accountId && database.name === name)) {
    return fail(400, CODES.d1AlreadyExists, `A database with the name "${name}" already exists`);
  }
  const database: FakeD1Database = { accountId, uuid: randomUUID(), name, createdAt: nowIso(), primaryLocationHint: hint as string | undefined, db: new Sqlite(":memory:") };
  state.d1Databases.set(database.uuid, database);
  created("d1_database", database.uuid);
  return ok({ ...details(database), created_in_region: (hint ?? "enam").toUpperCase() });
}

function withDatabase(context: RouteContext, isGet: boolean, answer: (database: FakeD1Database) => RouteResponse): RouteResponse {
  const uuid = context.params.database_id!;
  const database = context.state.d1Databases.get(uuid);
  if (database === undefined || database.accountId !== context.accountId || (isGet && context.isHidden("d1_database", uuid))) {
    return fail(404, CODES.d1NotFound, `The database ${uuid} could not be found`);
  }
  return answer(database);
}

function details(database: FakeD1Database) {
  const tables = database.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").get() as { n: number };
  return {
    uuid: database.uuid,
    name: database.name,
    version: "production",
    created_at: database.createdAt,
    num_tables: tables.n,
    file_size: sizeOf(database.db),
  };
}

function runQuery(db: Database, body: unknown): RouteResponse {
  if (!isRecord(body) || typeof body.sql !== "string") return fail(400, CODES.d1Invalid, "The body must be { sql: string, params?: unknown[] }");
  const params = body.params ?? [];
  if (!Array.isArray(params)) return fail(400, CODES.d1Invalid, "params must be an array");
  const statements = splitSql(body.sql);
  if (statements.length === 0) return fail(400, CODES.d1QueryError, "No SQL statements detected.");
  if (params.length > 0 && statements.length > 1) return fail(400, CODES.d1QueryError, "params bind a single statement; this SQL has several");
  const bound: unknown[] = params.map((param) => (typeof param === "boolean" ? Number(param) : param));
  try {
    const results = db.transaction(() => statements.map((sql) => runStatement(db, sql, bound)))();
    return ok(results);
  } catch (error) {
    const { message, code } = error as { message?: string; code?: string };
    return fail(400, CODES.d1QueryError, `${message ?? String(error)}: ${code ?? "SQLITE_ERROR"}`);
  }
}

function runStatement(db: Database, sql: string, params: unknown[]) {
  const started = performance.now();
  const statement = db.prepare(sql);
  const args = /\?\d/.test(sql) ? [Object.fromEntries(params.map((value, i) => [i + 1, value]))] : params;
  let rows: unknown[] = [];
  let changes = 0;
  let lastRowId: number | bigint;
  if (statement.reader) {
    rows = statement.all(...args);
    lastRowId = (db.prepare("SELECT last_insert_rowid() AS id").get() as { id: number }).id;
  } else {
    const info = statement.run(...args);
    changes = info.changes;
    lastRowId = info.lastInsertRowid;
  }
  const duration = performance.now() - started;
  return {
    results: rows,
    success: true,
    meta: {
      served_by: "fake-cloudflare",
      served_by_primary: true,
      duration,
      timings: { sql_duration_ms: duration },
      changes,
      last_row_id: Number(lastRowId),
      changed_db: !statement.reader,
      size_after: sizeOf(db),
      rows_read: rows.length,
      rows_written: changes,
    },
  };
}

function sizeOf(db: Database): number {
  return Number(db.pragma("page_count", { simple: true })) * Number(db.pragma("page_size", { simple: true }));
}
