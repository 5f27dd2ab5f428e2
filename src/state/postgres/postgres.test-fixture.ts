/**
 * Test helper: a PostgreSQL schema of its own (random name) for each test, on
 * the server at 127.0.0.1:5432, dropped afterwards. The schema is only named,
 * not created, so a store under test creates it on first use.
 *
 * A test that cannot reach the server fails, saying so; it is never skipped.
 *
 * @example
 * const db = useTestSchema();
 * it("writes", async () => {
 *   const store = new PostgresStateStore({ chain: ["app", "dev"] }, db.options());
 *   ...
 *   expect(await db.query(`SELECT count(*) FROM ${db.schema}.records`)).toEqual([{ count: "1" }]);
 * });
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach, beforeEach } from "vitest";

/** The server the tests use: `ALCHEMY_TEST_DATABASE_URL`, else the local server's `test` database. */
export const TEST_DATABASE_URL = process.env.ALCHEMY_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A schema name reserved for one test, and the means to look into it. */
export interface TestSchema {
  /** Connection string of the test database. */
  readonly connectionString: string;
  /** Name of the schema, e.g. `alchemy_test_3f9a0c12d4e5`; safe to splice into SQL. */
  readonly schema: string;
  /** Options for a `PostgresStateStore` over this schema. */
  options(): { connectionString: string; schema: string };
  /** Runs `sql` on the test database (own connection) and resolves its rows. */
  query<Row extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Drops the schema and everything in it, if it exists. */
  drop(): Promise<void>;
}

/**
 * Reserves a fresh schema name on the test database, after checking that the
 * server answers.
 *
 * @throws Error "PostgreSQL at 127.0.0.1:5432 is unreachable ..." when it does not.
 * @example
 * const db = await createTestSchema();
 * try { ... } finally { await db.drop(); }
 */
export async function createTestSchema(prefix = "alchemy_test"): Promise<TestSchema> {
  await assertPostgresReachable();
  const schema = `${prefix}_${randomBytes(6).toString("hex")}`;
  const query = async <Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<Row[]> => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      return (await client.query<Row>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    connectionString: TEST_DATABASE_URL,
    schema,
    options: () => ({ connectionString: TEST_DATABASE_URL, schema }),
    query,
    drop: async () => void (await query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
  };
}

/**
 * Gives each test of the enclosing `describe` (or file) its own schema,
 * dropped after the test. Read its fields inside a test only.
 *
 * @example
 * const db = useTestSchema();
 * it("...", async () => { new PostgresStateStore(scope, db.options()); });
 */
export function useTestSchema(prefix?: string): TestSchema {
  let current: TestSchema | undefined;
  beforeEach(async () => {
    current = await createTestSchema(prefix);
  });
  afterEach(async () => {
    const done = current;
    current = undefined;
    await done?.drop();
  });
  const now = (): TestSchema => {
    if (current === undefined) throw new Error("useTestSchema(): read the schema inside a test, not while the tests are being defined.");
    return current;
  };
  return {
    get connectionString() {
      return now().connectionString;
    },
    get schema() {
      return now().schema;
    },
    options: () => now().options(),
    query: (sql, params) => now().query(sql, params),
    drop: () => now().drop(),
  };
}

/**
 * Resolves when the test server accepts a connection; otherwise throws an
 * error saying that PostgreSQL at 127.0.0.1:5432 is unreachable and how to start it.
 *
 * @example
 * await assertPostgresReachable();
 */
export async function assertPostgresReachable(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    const where = new URL(TEST_DATABASE_URL);
    throw new Error(
      `PostgreSQL at ${where.hostname}:${where.port || 5432} is unreachable (${(error as Error).message}); ` +
        `the PostgreSQL state store tests need it. Start it with ` +
        `\`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\`, or set ALCHEMY_TEST_DATABASE_URL.`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
