import { afterEach, describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import type { State } from "../state-store.js";
import { useTestSchema } from "./postgres.test-fixture.js";
import { PostgresStateStore } from "./postgres-state-store.js";
import { SCHEMA_VERSION } from "./schema-migrations.js";

const STAGE = ["app", "dev"];
const state = (id: string): State => ({
  status: "created", kind: "test::Thing", id, fqn: `app/dev/${id}`, seq: 1, data: {}, props: {}, output: {}, deps: [],
});

describe("the PostgreSQL state schema", () => {
  const db = useTestSchema();
  const stores: PostgresStateStore[] = [];
  const store = (connectionString = db.connectionString) => {
    const made = new PostgresStateStore({ chain: STAGE }, { connectionString, schema: db.schema });
    stores.push(made);
    return made;
  };
  afterEach(async () => {
    for (const made of stores.splice(0)) await made.deinit();
  });
  const tables = () =>
    db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [db.schema]);

  const columns = (table: string) =>
    db.query(
      `SELECT column_name AS name, data_type AS type, collation_name AS collation, is_nullable AS nullable FROM information_schema.columns ` +
        `WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [db.schema, table],
    );
  const versions = () => db.query(`SELECT version FROM ${db.schema}.schema_version ORDER BY version`);

  it("is created on first use, with its version recorded", async () => {
    expect(await db.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [db.schema])).toEqual([]);
    await store().init();
    expect(SCHEMA_VERSION).toBe(4);
    expect(await versions()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    expect(await tables()).toEqual([{ name: "records" }, { name: "schema_version" }, { name: "stage_history" }, { name: "stage_locks" }, { name: "stage_meta" }]);
    expect((await columns("records")).map(({ nullable, ...column }) => column)).toEqual([
      { name: "scope", type: "text", collation: "C" },
      { name: "id", type: "text", collation: "C" },
      { name: "body", type: "text", collation: null },
      { name: "updated_at", type: "timestamp with time zone", collation: null },
    ]);
  });

  it("has, from version 2, a stage_locks row per stage keyed bytewise by app and stage", async () => {
    await store().init();
    expect(await columns("stage_locks")).toEqual([
      { name: "app", type: "text", collation: "C", nullable: "NO" },
      { name: "stage", type: "text", collation: "C", nullable: "NO" },
      { name: "id", type: "text", collation: null, nullable: "YES" },
      { name: "token", type: "bigint", collation: null, nullable: "NO" },
      { name: "holder", type: "jsonb", collation: null, nullable: "YES" },
      { name: "acquired_at", type: "timestamp with time zone", collation: null, nullable: "YES" },
      { name: "heartbeat_at", type: "timestamp with time zone", collation: null, nullable: "YES" },
      { name: "lease_ms", type: "integer", collation: null, nullable: "YES" },
    ]);
    const key = await db.query(
      `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) ` +
        `WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY a.attnum`,
      [`${db.schema}.stage_locks`],
    );
    expect(key).toEqual([{ name: "app" }, { name: "stage" }]);
  });

  it("has, from version 4, a stage_history row per kept entry keyed bytewise by app, stage and run, its snapshot as bytea", async () => {
    await store().init();
    expect(await columns("stage_history")).toEqual([
      { name: "app", type: "text", collation: "C", nullable: "NO" },
      { name: "stage", type: "text", collation: "C", nullable: "NO" },
      { name: "run", type: "text", collation: "C", nullable: "NO" },
      { name: "entry", type: "text", collation: null, nullable: "NO" },
      { name: "snapshot", type: "bytea", collation: null, nullable: "NO" },
      { name: "updated_at", type: "timestamp with time zone", collation: null, nullable: "NO" },
    ]);
  });

  it("has, from version 3, a stage_meta row per stage keyed bytewise by app and stage, its body as text", async () => {
    await store().init();
    expect(await columns("stage_meta")).toEqual([
      { name: "app", type: "text", collation: "C", nullable: "NO" },
      { name: "stage", type: "text", collation: "C", nullable: "NO" },
      { name: "body", type: "text", collation: null, nullable: "NO" },
      { name: "updated_at", type: "timestamp with time zone", collation: null, nullable: "NO" },
    ]);
    const key = await db.query(
      `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) ` +
        `WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY a.attnum`,
      [`${db.schema}.stage_meta`],
    );
    expect(key).toEqual([{ name: "app" }, { name: "stage" }]);
  });

  it("migrates a version 2 schema to the current version, keeping its records and lock rows", async () => {
    await createVersion1();
    await db.query(
      `CREATE TABLE ${db.schema}.stage_locks (app text COLLATE "C" NOT NULL, stage text COLLATE "C" NOT NULL, id text, token bigint NOT NULL, ` +
        `holder jsonb, acquired_at timestamptz, heartbeat_at timestamptz, lease_ms integer, PRIMARY KEY (app, stage), ` +
        `CHECK (id IS NULL OR (holder IS NOT NULL AND acquired_at IS NOT NULL AND heartbeat_at IS NOT NULL AND lease_ms IS NOT NULL)))`,
    );
    await db.query(`INSERT INTO ${db.schema}.schema_version (version) VALUES (2)`);
    await db.query(`INSERT INTO ${db.schema}.stage_locks (app, stage, token) VALUES ('app', 'dev', 5)`);
    const upgraded = store();
    expect(await upgraded.get("api")).toEqual(state("api"));
    expect(await versions()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    expect(await upgraded.getStageMeta()).toBeUndefined();
    await upgraded.setStageMeta({ secrets: { salt: "a" } });
    expect(await db.query(`SELECT app, stage, body FROM ${db.schema}.stage_meta`)).toEqual([{ app: "app", stage: "dev", body: '{"secrets":{"salt":"a"}}' }]);
    const lock = await upgraded.lock({ holder: { user: "t", host: "h", pid: 1, command: "c" }, leaseMs: 30_000, timeoutMs: 0 });
    expect(lock.info.token).toBe(6);
    await lock.release();
  });

  /** Version 1 exactly as its code made it, with one record. */
  const createVersion1 = async () => {
    await db.query(`CREATE SCHEMA ${db.schema}`);
    await db.query(`CREATE TABLE ${db.schema}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(
      `CREATE TABLE ${db.schema}.records (scope text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, body text NOT NULL, ` +
        `updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (scope, id))`,
    );
    await db.query(`INSERT INTO ${db.schema}.schema_version (version) VALUES (1)`);
    await db.query(`INSERT INTO ${db.schema}.records (scope, id, body) VALUES ('app/dev', 'api', $1)`, [JSON.stringify(state("api"))]);
  };

  it("migrates a version 1 schema to the current version, keeping its records", async () => {
    await createVersion1();
    const upgraded = store();
    expect(await upgraded.get("api")).toEqual(state("api"));
    expect(await versions()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    expect(await upgraded.lockInfo()).toBeUndefined();
  });

  it("is created by the first write when init was not called", async () => {
    await store().set("api", state("api"));
    expect(await db.query(`SELECT id FROM ${db.schema}.records`)).toEqual([{ id: "api" }]);
  });

  it("uses a schema made beforehand by a database administrator", async () => {
    await db.query(`CREATE SCHEMA ${db.schema}`);
    await store().set("api", state("api"));
    expect(await versions()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
  });

  it("migrates once when stores over ten pools start at the same moment", async () => {
    const many = Array.from({ length: 10 }, (_, i) => store(`${db.connectionString}?application_name=racer${i}`));
    await Promise.all(many.map((s) => s.init()));
    await Promise.all(many.map((s, i) => s.set(`r-${i}`, state(`r-${i}`))));
    expect(await versions()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    expect(await many[0]!.count()).toBe(10);
  });

  it("is refused, with nothing read or written, when the database is at a newer version than the code knows", async () => {
    const first = store();
    await first.set("api", state("api"));
    await first.deinit();
    await db.query(`INSERT INTO ${db.schema}.schema_version (version) VALUES (${SCHEMA_VERSION + 1})`);
    const later = store();
    const error = await later.init().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toMatch(
      new RegExp(`schema "${db.schema}" at postgres://127\\.0\\.0\\.1:5432/test is at version 5, but this version of alchemy knows versions up to 4\\. .*Upgrade alchemy`),
    );
    expect((error as StateStoreError).location).toBe(`postgres://127.0.0.1:5432/test#${db.schema}.schema_version`);
    await expect(later.set("web", state("web"))).rejects.toThrow(/at version 5/);
    await expect(later.get("api")).rejects.toThrow(/at version 5/);
    await expect(later.getStageMeta()).rejects.toThrow(/at version 5/);
    expect(await db.query(`SELECT id FROM ${db.schema}.records`)).toEqual([{ id: "api" }]);
  });
});
