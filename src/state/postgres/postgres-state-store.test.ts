import { afterEach, describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { describeStateStore } from "../../testing/state-store-conformance.js";
import type { State } from "../state-store.js";
import { openReferences } from "./database-registry.js";
import { createTestSchema, useTestSchema } from "./postgres.test-fixture.js";
import { PostgresStateStore } from "./postgres-state-store.js";
import { resolveTarget } from "./connection-string.js";

describeStateStore("PostgresStateStore", async () => {
  const db = await createTestSchema();
  return {
    factory: (scope) => new PostgresStateStore(scope, db.options()),
    reopen: () => (scope) => new PostgresStateStore(scope, db.options()),
    cleanup: () => db.drop(),
  };
});

const STAGE = ["app", "dev"];
const state = (chain: readonly string[], id: string, extra: Partial<State> = {}): State => ({
  status: "created", kind: "test::Thing", id, fqn: [...chain, id].join("/"), seq: 1,
  data: {}, props: { name: id }, output: { ok: true }, deps: [], ...extra,
});

describe("PostgresStateStore", () => {
  const db = useTestSchema();
  const stores: PostgresStateStore[] = [];
  const open = async (chain: readonly string[] = STAGE) => {
    const store = new PostgresStateStore({ chain }, db.options());
    stores.push(store);
    await store.init();
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.deinit();
  });

  it("keeps a record's JSON text exactly, key order and \\u0000 included", async () => {
    const store = await open();
    const record = state(STAGE, "api", { props: { z: 1, a: "nul:\u0000", m: { y: [2, 1], b: null } } });
    await store.set("api", record);
    const [row] = await db.query<{ body: string }>(`SELECT body FROM ${db.schema}.records WHERE scope = 'app/dev' AND id = 'api'`);
    expect(row!.body).toBe(JSON.stringify(record));
    expect(JSON.stringify(await store.get("api"))).toBe(JSON.stringify(record));
  });

  it("sends set and delete calls made in one tick as one statement, last call on a key winning", async () => {
    const store = await open();
    const calls = [
      store.set("a", state(STAGE, "a", { seq: 1 })),
      store.set("b", state(STAGE, "b")),
      store.delete("a"),
      store.set("a", state(STAGE, "a", { seq: 3 })),
      store.set("c", state(STAGE, "c")),
      store.delete("c"),
      ...Array.from({ length: 500 }, (_, i) => store.set(`n-${i}`, state(STAGE, `n-${i}`))),
    ];
    await Promise.all(calls);
    expect((await store.get("a"))?.seq).toBe(3);
    expect(await store.get("c")).toBeUndefined();
    // now() is the time its transaction started: one time for every row means one statement.
    const times = await db.query<{ n: number }>(`SELECT count(DISTINCT updated_at)::int AS n FROM ${db.schema}.records`);
    expect(times).toEqual([{ n: 1 }]);
    expect(await store.count()).toBe(502);
  });

  it("rejects every call of a batch that fails, and later batches still commit", async () => {
    const store = await open();
    await store.set("before", state(STAGE, "before"));
    await db.query(`ALTER TABLE ${db.schema}.records ADD CONSTRAINT small CHECK (length(body) < 1000)`);
    const results = await Promise.allSettled([
      store.set("fits", state(STAGE, "fits")),
      store.set("huge", state(STAGE, "huge", { data: { blob: "x".repeat(2000) } })),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    const error = (results[0] as PromiseRejectedResult).reason as StateStoreError;
    expect(error).toBeInstanceOf(StateStoreError);
    expect(error.location).toMatch(/^postgres:\/\/127\.0\.0\.1:5432\/test#alchemy_test_\w+\.records scope=app\/dev id=fits$/);
    expect(error.message).toMatch(/small/);
    await store.set("after", state(STAGE, "after"));
    expect((await store.list()).sort()).toEqual(["after", "before"]);
  });

  it("lets a read made right after an unawaited set see it", async () => {
    const writer = await open();
    const reader = await open();
    const written = writer.set("api", state(STAGE, "api"));
    expect(await reader.get("api")).toEqual(state(STAGE, "api"));
    await written;
  });

  it("lists child scopes bytewise, with no LIKE pitfalls for names holding _ - and .", async () => {
    const stage = await open();
    for (const name of ["a_b", "a-b", "a.b", "ab", "_", "数据"]) {
      await (await open([...STAGE, name, "x"])).set("r", state([...STAGE, name, "x"], "r"));
    }
    await (await open(["app", "dev-2"])).set("r", state(["app", "dev-2"], "r"));
    await (await open(["app", "dev_"])).set("r", state(["app", "dev_"], "r"));
    expect((await stage.listScopes()).sort()).toEqual(["_", "a-b", "a.b", "a_b", "ab", "数据"]);
    expect(await (await open([...STAGE, "a_b"])).listScopes()).toEqual(["x"]);
    expect((await (await open(["app"])).listScopes()).sort()).toEqual(["dev", "dev-2", "dev_"]);
    expect(await (await open([])).listScopes()).toEqual(["app"]);
  });

  it("reads but refuses to write at the application level", async () => {
    await (await open()).set("api", state(STAGE, "api"));
    const app = await open(["app"]);
    expect(await app.listScopes()).toEqual(["dev"]);
    expect(await app.list()).toEqual([]);
    await expect(app.set("x", state(["app"], "x"))).rejects.toThrow(/records live in a stage or a scope below it/);
  });

  it("stops at an unreadable row with a StateStoreError naming the table, scope and id, and changes nothing", async () => {
    const store = await open();
    await store.set("api", state(STAGE, "api"));
    await store.set("web", state(STAGE, "web"));
    await db.query(`UPDATE ${db.schema}.records SET body = '{"status": "gone"' WHERE id = 'api'`);
    const location = new RegExp(`^postgres://127\\.0\\.0\\.1:5432/test#${db.schema}\\.records scope=app/dev id=api$`);
    for (const read of [() => store.get("api"), () => store.all(), () => store.getBatch(["web", "api"])]) {
      const error = await read().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).location).toMatch(location);
      expect((error as Error).message).toMatch(/"app\/dev\/api" .* is not valid JSON/);
    }
    await db.query(`UPDATE ${db.schema}.records SET body = '{"status": "gone"}' WHERE id = 'api'`);
    await expect(store.get("api")).rejects.toThrow(/is not a state record: it has status "gone"/);
    expect(await store.count()).toBe(2);
  });

  it("refuses a row whose record claims another stage, naming the row and how to remove it", async () => {
    const store = await open();
    await store.set("api", state(STAGE, "api"));
    await db.query(`UPDATE ${db.schema}.records SET body = $1 WHERE id = 'api'`, [JSON.stringify(state(["app", "prod"], "api"))]);
    for (const read of [() => store.get("api"), () => store.all(), () => store.getBatch(["api"])]) {
      const error = await read().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as Error).message).toMatch(/^The record "app\/dev\/api" in .* is not a state record: it holds fqn "app\/prod\/api" but is stored as "app\/dev\/api"/);
      expect((error as Error).message).toContain(`DELETE FROM "${db.schema}".records WHERE scope = 'app/dev' AND id = 'api'`);
    }
    await expect(store.set("api", state(["app", "prod"], "api"))).rejects.toThrow(/Refusing to write record "api" .* holds fqn "app\/prod\/api"/);
  });

  it("refuses a record that is not valid before writing anything", async () => {
    const store = await open();
    await expect(store.set("api", state(STAGE, "web"))).rejects.toThrow(/Refusing to write record "api"/);
    await expect(store.set("api", state(STAGE, "api", { output: { n: 1n } }))).rejects.toThrow(/cannot be stored as JSON/);
    expect(await store.count()).toBe(0);
  });

  it("shares one pool between stores of a process and closes it when the last one deinits", async () => {
    const target = resolveTarget(db.options(), {});
    const first = new PostgresStateStore({ chain: STAGE }, db.options());
    const second = new PostgresStateStore({ chain: [...STAGE, "nested"] }, db.options());
    await first.init();
    await second.init();
    expect(openReferences(target)).toBe(2);
    const write = second.set("db", state([...STAGE, "nested"], "db"));
    await first.deinit();
    expect(openReferences(target)).toBe(1);
    await second.deinit(); // waits for the write in flight
    await write;
    expect(openReferences(target)).toBe(0);
    expect(await db.query(`SELECT id FROM ${db.schema}.records`)).toEqual([{ id: "db" }]);
  });

  it("reports updatedAt as the newest updated_at of the scope's records", async () => {
    const store = await open([...STAGE, "clock"]);
    expect(await store.updatedAt()).toBeUndefined();
    await store.set("a", state([...STAGE, "clock"], "a"));
    const [row] = await db.query<{ at: Date }>(`SELECT updated_at AS at FROM ${db.schema}.records`);
    expect(await store.updatedAt()).toEqual(row!.at);
  });

  // How fast is the benchmark's business (npm run bench, BENCH_STORES=postgres); this checks that nothing is lost or mixed up.
  it("commits 10,000 concurrent set calls, then serves 10,000 concurrent get calls, each with its own record", { timeout: 60_000 }, async () => {
    const store = await open();
    const ids = Array.from({ length: 10_000 }, (_, i) => `r-${i}`);
    await Promise.all(ids.map((id, i) => store.set(id, state(STAGE, id, { seq: i, props: { i, name: `resource ${i}` } }))));
    const read = await Promise.all(ids.map((id) => store.get(id)));
    expect(read.every((r, i) => r?.seq === i && (r.props as { i: number }).i === i)).toBe(true);
    expect(await store.count()).toBe(10_000);
  });
});
