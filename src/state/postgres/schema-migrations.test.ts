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

  it("is created on first use, with its version recorded", async () => {
    expect(await db.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [db.schema])).toEqual([]);
    await store().init();
    expect(SCHEMA_VERSION).toBe(1);
    expect(await db.query(`SELECT version FROM ${db.schema}.schema_version`)).toEqual([{ version: 1 }]);
    expect(await tables()).toEqual([{ name: "records" }, { name: "schema_version" }]);
    const columns = await db.query(
      `SELECT column_name AS name, data_type AS type, collation_name AS collation FROM information_schema.columns ` +
        `WHERE table_schema = $1 AND table_name = 'records' ORDER BY ordinal_position`,
      [db.schema],
    );
    expect(columns).toEqual([
      { name: "scope", type: "text", collation: "C" },
      { name: "id", type: "text", collation: "C" },
      { name: "body", type: "text", collation: null },
      { name: "updated_at", type: "timestamp with time zone", collation: null },
    ]);
  });

  it("is created by the first write when init was not called", async () => {
    await store().set("api", state("api"));
    expect(await db.query(`SELECT id FROM ${db.schema}.records`)).toEqual([{ id: "api" }]);
  });

  it("uses a schema made beforehand by a database administrator", async () => {
    await db.query(`CREATE SCHEMA ${db.schema}`);
    await store().set("api", state("api"));
    expect(await db.query(`SELECT version FROM ${db.schema}.schema_version`)).toEqual([{ version: 1 }]);
  });

  it("migrates once when stores over ten pools start at the same moment", async () => {
    const many = Array.from({ length: 10 }, (_, i) => store(`${db.connectionString}?application_name=racer${i}`));
    await Promise.all(many.map((s) => s.init()));
    await Promise.all(many.map((s, i) => s.set(`r-${i}`, state(`r-${i}`))));
    expect(await db.query(`SELECT version FROM ${db.schema}.schema_version`)).toEqual([{ version: 1 }]);
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
      new RegExp(`schema "${db.schema}" at postgres://127\\.0\\.0\\.1:5432/test is at version 2, but this version of alchemy knows versions up to 1\\. .*Upgrade alchemy`),
    );
    expect((error as StateStoreError).location).toBe(`postgres://127.0.0.1:5432/test#${db.schema}.schema_version`);
    await expect(later.set("web", state("web"))).rejects.toThrow(/at version 2/);
    await expect(later.get("api")).rejects.toThrow(/at version 2/);
    expect(await db.query(`SELECT id FROM ${db.schema}.records`)).toEqual([{ id: "api" }]);
  });
});
