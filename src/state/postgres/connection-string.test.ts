import { afterEach, describe, expect, it, vi } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import type { State } from "../state-store.js";
import { DATABASE_URL_VARIABLE, redactConnectionString, resolveTarget } from "./connection-string.js";
import { useTestSchema } from "./postgres.test-fixture.js";
import { PostgresStateStore } from "./postgres-state-store.js";

const PASSWORD = "Sup3r-Secret_pw";
const STAGE = ["app", "dev"];
const state = (id: string): State => ({
  status: "created", kind: "test::Thing", id, fqn: `app/dev/${id}`, seq: 1, data: {}, props: {}, output: {}, deps: [],
});

/** Everything an error shows: message, location, its string form and its stack. */
async function shownBy(attempt: () => Promise<unknown> | unknown): Promise<string> {
  try {
    await attempt();
  } catch (error) {
    const e = error as StateStoreError;
    return [e.message, e.location, String(e), e.stack].join("\n");
  }
  throw new Error("expected an error");
}

describe("the connection string of PostgresStateStore", () => {
  const db = useTestSchema();
  afterEach(() => void vi.unstubAllEnvs());

  it("uses ALCHEMY_STATE_DATABASE_URL when no connectionString is given", async () => {
    vi.stubEnv(DATABASE_URL_VARIABLE, db.connectionString);
    const store = new PostgresStateStore({ chain: STAGE }, { schema: db.schema });
    try {
      await store.set("api", state("api"));
    } finally {
      await store.deinit();
    }
    expect(await db.query(`SELECT scope, id FROM ${db.schema}.records`)).toEqual([{ scope: "app/dev", id: "api" }]);
  });

  it("prefers the connectionString option to ALCHEMY_STATE_DATABASE_URL", () => {
    vi.stubEnv(DATABASE_URL_VARIABLE, "postgres://elsewhere:5432/other");
    expect(resolveTarget({ connectionString: "postgres://db.internal:6543/state" }, process.env).server).toBe(
      "postgres://db.internal:6543/state",
    );
  });

  it("fails at construction, saying what to pass or set, when neither gives a database", () => {
    vi.stubEnv(DATABASE_URL_VARIABLE, "");
    expect(() => new PostgresStateStore({ chain: STAGE })).toThrow(StateStoreError);
    expect(() => new PostgresStateStore({ chain: STAGE })).toThrow(/pass \{ connectionString: .* or set ALCHEMY_STATE_DATABASE_URL/);
  });

  it("rejects a schema that is not a plain identifier", () => {
    expect(() => new PostgresStateStore({ chain: STAGE }, { connectionString: db.connectionString, schema: 'x"; DROP' })).toThrow(
      /Invalid schema .* letters, digits and "_"/,
    );
  });

  it("never shows the password in an error: unreachable server, malformed URL, refused schema", async () => {
    const unreachable = new PostgresStateStore({ chain: STAGE }, { connectionString: `postgres://postgres:${PASSWORD}@127.0.0.1:1/test` });
    const onInit = await shownBy(() => unreachable.init());
    const onWrite = await shownBy(() => unreachable.set("api", state("api")));
    await unreachable.deinit();
    expect(onInit).toMatch(/PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/test is unreachable .*ECONNREFUSED/);
    expect(onWrite).toMatch(/Cannot .* PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/test is unreachable/);
    const malformed = await shownBy(() => new PostgresStateStore({ chain: STAGE }, { connectionString: `postgres://u:${PASSWORD}@[bad/test` }));
    expect(malformed).toMatch(/postgres:\/\/u:\*\*\*@\[bad\/test is not a valid postgres:\/\/ URL/);
    const keywords = await shownBy(() => new PostgresStateStore({ chain: STAGE }, { connectionString: `host=127.0.0.1 password=${PASSWORD}` }));
    expect(keywords).toMatch(/host=127\.0\.0\.1 password=\*\*\* is not a valid postgres:\/\/ URL/);
    // The local server trusts any password: get as far as a schema that is refused.
    const url = new URL(db.connectionString);
    url.password = PASSWORD;
    await db.query(`CREATE SCHEMA ${db.schema}; CREATE TABLE ${db.schema}.schema_version (version int); INSERT INTO ${db.schema}.schema_version VALUES (99)`);
    const refused = new PostgresStateStore({ chain: STAGE }, { connectionString: url.href, schema: db.schema });
    const onRefusal = await shownBy(() => refused.get("api"));
    await refused.deinit();
    expect(onRefusal).toMatch(/at version 99/);
    for (const shown of [onInit, onWrite, malformed, keywords, onRefusal]) expect(shown).not.toContain(PASSWORD);
  });

  it("redacts passwords in connection strings, also in the keyword form people paste by mistake", () => {
    expect(redactConnectionString("postgres://me:p%40ss@db:5432/state?sslmode=require")).toBe("postgres://me:***@db:5432/state?sslmode=require");
    expect(redactConnectionString("postgresql://db/state?password=hunter2&x=1")).toBe("postgresql://db/state?password=***&x=1");
    expect(redactConnectionString("host=db password=hunter2 dbname=state")).toBe("host=db password=*** dbname=state");
    expect(redactConnectionString("postgres://me@db/state")).toBe("postgres://me@db/state");
  });
});
