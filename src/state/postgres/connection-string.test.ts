import { afterEach, describe, expect, it, vi } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import type { State } from "../state-store.js";
import { parseStoreUrl, storeFactory } from "../store-url.js";
import { DATABASE_URL_VARIABLE, redactConnectionString, resolveTarget } from "./connection-string.js";
import { useTestSchema } from "./postgres.test-fixture.js";
import { PostgresStateStore } from "./postgres-state-store.js";

const PASSWORD = "Sup3r-Secret_pw";
const STAGE = ["app", "dev"];
const state = (id: string): State => ({
  status: "created", kind: "test::Thing", id, fqn: `app/dev/${id}`, seq: 1, data: {}, props: {}, output: {}, deps: [],
});

/** `url` with `?schema=<schema>` added (kept apart from any query it has). */
const withSchema = (url: string, schema: string) => {
  const parsed = new URL(url);
  parsed.searchParams.append("schema", schema);
  return parsed.href;
};

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

  it("honours ?schema= in the connectionString option: the records go to that schema, and pg is not handed the parameter", async () => {
    const connectionString = withSchema(db.connectionString, db.schema);
    const target = resolveTarget({ connectionString }, process.env);
    expect(target).toMatchObject({ schema: db.schema, connectionString: db.connectionString });
    const store = new PostgresStateStore({ chain: STAGE }, { connectionString });
    try {
      await store.set("api", state("api"));
    } finally {
      await store.deinit();
    }
    expect(await db.query(`SELECT scope, id FROM ${db.schema}.records`)).toEqual([{ scope: "app/dev", id: "api" }]);
  });

  it("honours ?schema= in ALCHEMY_STATE_DATABASE_URL too, and keeps the other parameters", () => {
    vi.stubEnv(DATABASE_URL_VARIABLE, "postgres://me:pw@db.internal:6543/state?sslmode=require&schema=reports");
    expect(resolveTarget({}, process.env)).toMatchObject({
      schema: "reports",
      connectionString: "postgres://me:pw@db.internal:6543/state?sslmode=require",
      server: "postgres://db.internal:6543/state",
    });
  });

  it("reads ?schema= the same in a connectionString as in a --state store URL", () => {
    const url = "postgres://me:pw@db.internal:6543/state?schema=reports";
    const location = parseStoreUrl(url, "/");
    expect(location).toEqual({ kind: "postgres", connectionString: "postgres://me:pw@db.internal:6543/state", schema: "reports" });
    const fromOption = resolveTarget({ connectionString: url }, process.env);
    expect(resolveTarget(location.kind === "postgres" ? location : {}, process.env)).toEqual(fromOption);
    expect(() => storeFactory(location)({ chain: STAGE })).not.toThrow();
  });

  it("accepts a schema option equal to ?schema=, and refuses one that disagrees, naming both and the fix, without the password", () => {
    const connectionString = `postgres://me:${PASSWORD}@db.internal:6543/state?schema=reports`;
    expect(resolveTarget({ connectionString, schema: "reports" }, process.env).schema).toBe("reports");
    const attempt = () => new PostgresStateStore({ chain: STAGE }, { connectionString, schema: "alchemy_state" });
    expect(attempt).toThrow(StateStoreError);
    expect(attempt).toThrow(
      'PostgresStateStore was given two schemas: the connectionString option (postgres://me:***@db.internal:6543/state?schema=reports) ' +
        'names schema "reports" with ?schema=, and the schema option says "alchemy_state". ' +
        "Give the schema once: drop ?schema=reports from the connection string, or drop the schema option.",
    );
    vi.stubEnv(DATABASE_URL_VARIABLE, connectionString);
    expect(() => resolveTarget({ schema: "alchemy" }, process.env)).toThrow(
      /^PostgresStateStore was given two schemas: ALCHEMY_STATE_DATABASE_URL \(postgres:\/\/me:\*\*\*@db.internal:6543\/state\?schema=reports\) names schema "reports"/,
    );
  });

  it("refuses a connection string naming several schemas, or an empty or invalid one, in a store URL too", () => {
    const several = "postgres://me@db/state?schema=a&schema=b";
    expect(() => resolveTarget({ connectionString: several }, process.env)).toThrow(
      'The PostgreSQL connection string postgres://me@db/state?schema=a&schema=b names several schemas ("a", "b"): give one ?schema= parameter.',
    );
    expect(() => parseStoreUrl(several, "/")).toThrow(/names several schemas \("a", "b"\)/);
    expect(resolveTarget({ connectionString: "postgres://me@db/state?schema=a&schema=a" }, process.env).schema).toBe("a");
    expect(() => resolveTarget({ connectionString: "postgres://me@db/state?schema=" }, process.env)).toThrow(/^Invalid schema "" for PostgresStateStore/);
    expect(() => resolveTarget({ connectionString: "postgres://me@db/state?schema=x%22%3B%20DROP" }, process.env)).toThrow(
      'Invalid schema "x\\"; DROP" for PostgresStateStore',
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
