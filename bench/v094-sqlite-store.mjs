// Alchemy 0.94's SQLite state store, for the bench, under Node 20.
//
// 0.94's `SQLiteStateStore` (alchemy-v094/lib/state/sqlite-state-store.js)
// opens its database with one of two drivers: `bun:sqlite` (Bun only) or
// `@libsql/client` (engine "libsql", the default under Node). Neither is
// available here: this is Node, and `@libsql/client` is not installed (it is an
// optional peer dependency of 0.94; the bench must not `npm install`). Without
// it, the unmodified store fails at its first call with 0.94's
// `PeerDependencyError: Missing peer dependency for SQLiteStateStore (libsql)`.
//
// So by default (BENCH_V094_SQLITE_DRIVER=better-sqlite3) this module runs
// 0.94's store with everything but the driver unchanged:
//   - the same class (a subclass of 0.94's SQLiteStateStore, hence its
//     StateStoreProxy: serialization through 0.94's serde, exponential-backoff
//     retries, one `dispatch` per call),
//   - the same SQL operations (0.94's SQLiteStateStoreOperations: one
//     autocommitted drizzle statement per get/set/delete, listScopes as
//     SELECT DISTINCT scope over the whole table),
//   - the same schema, created by 0.94's own drizzle migrations
//     (alchemy-v094/drizzle/default, table `resources`, primary key (scope, id),
//     `scope` the JSON array of the scope chain),
//   - the same pragmas (busy_timeout = 5000, journal_mode = WAL), one database
//     connection per process (0.94 memoizes it),
// but drizzle's `better-sqlite3` driver (drizzle-orm/better-sqlite3, the same
// drizzle-orm 0.45 0.94 uses) in place of `libsql`. Both are synchronous native
// SQLite bindings (libsql's local-file client wraps each call in a promise).
// One difference is made explicit: libsql builds SQLite with the default
// `synchronous = FULL` in WAL mode (every commit fsyncs the WAL), while
// better-sqlite3 is built with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1 (NORMAL, no
// fsync per commit). The shim sets `PRAGMA synchronous = FULL` so that 0.94
// gets libsql's durability, the same our SQLite store has
// (BENCH_V094_SQLITE_SYNC overrides it: NORMAL, FULL, OFF).
//
// BENCH_V094_SQLITE_DRIVER=libsql uses 0.94's store exactly as shipped
// (engine "libsql"); it needs `@libsql/client` to be resolvable.
import path from "node:path";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const V094_LIB = path.dirname(fileURLToPath(import.meta.resolve("alchemy-v094")));
const V094_ROOT = path.dirname(V094_LIB);

export const V094_SQLITE_DRIVER = process.env.BENCH_V094_SQLITE_DRIVER ?? "better-sqlite3";
export const V094_SQLITE_SYNC = (process.env.BENCH_V094_SQLITE_SYNC ?? "FULL").toUpperCase();
if (V094_SQLITE_DRIVER !== "better-sqlite3" && V094_SQLITE_DRIVER !== "libsql") {
  throw new Error(`BENCH_V094_SQLITE_DRIVER must be better-sqlite3 or libsql, got ${V094_SQLITE_DRIVER}`);
}
if (!["OFF", "NORMAL", "FULL", "EXTRA"].includes(V094_SQLITE_SYNC)) {
  throw new Error(`BENCH_V094_SQLITE_SYNC must be OFF, NORMAL, FULL or EXTRA, got ${V094_SQLITE_SYNC}`);
}

/** The table and the migrations 0.94's store uses (for the bench's verification). */
export const V094_SQLITE_TABLE = "resources";
export const V094_MIGRATIONS_DIRECTORY = path.join(V094_ROOT, "drizzle", "default");

/**
 * Returns a stateStore factory for 0.94's `alchemy()` keeping state in `filename`.
 * @param {string} filename
 */
export async function v094SQLiteStateStore(filename) {
  const { SQLiteStateStore } = await import(path.join(V094_LIB, "state", "sqlite-state-store.js"));
  if (V094_SQLITE_DRIVER === "libsql") {
    return (scope) => new SQLiteStateStore(scope, { engine: "libsql", filename });
  }
  const { SQLiteStateStoreOperations } = await import(path.join(V094_LIB, "state", "operations.js"));
  const schema = await import(path.join(V094_LIB, "state", "schema.js"));
  const { default: Database } = await import("better-sqlite3");
  const { drizzle } = await import("drizzle-orm/better-sqlite3");
  const { migrate } = await import("drizzle-orm/better-sqlite3/migrator");

  let db; // one connection per process, like 0.94's memoized createDatabase
  const open = () => {
    if (db) return db;
    mkdirSync(path.dirname(filename), { recursive: true });
    const client = new Database(filename);
    client.exec("PRAGMA busy_timeout = 5000;");
    client.exec("PRAGMA journal_mode = WAL;");
    client.exec(`PRAGMA synchronous = ${V094_SQLITE_SYNC};`);
    db = drizzle(client, { schema });
    migrate(db, { migrationsFolder: V094_MIGRATIONS_DIRECTORY });
    return db;
  };

  class BenchSQLiteStateStore extends SQLiteStateStore {
    async provision() {
      const operations = new SQLiteStateStoreOperations(open(), { chain: this.scope.chain });
      return operations.dispatch.bind(operations);
    }
  }
  return (scope) => new BenchSQLiteStateStore(scope, { filename });
}
