import os from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { LockLostError, type LockRequest } from "../stage-lock.js";
import type { State } from "../state-store.js";
import { useTestSchema } from "./postgres.test-fixture.js";
import { PostgresStateStore } from "./postgres-state-store.js";

const STAGE = ["app", "dev"];
const state = (chain: readonly string[], id: string): State => ({
  status: "created", kind: "test::Thing", id, fqn: [...chain, id].join("/"), seq: 1,
  data: {}, props: { name: id }, output: { ok: true }, deps: [],
});
const request = (command: string): LockRequest => ({
  holder: { user: "tester", host: os.hostname(), pid: process.pid, command }, leaseMs: 30_000, timeoutMs: 0,
});

describe("PostgresStateStore stage metadata", () => {
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
  const metaRows = () => db.query(`SELECT app, stage, body FROM ${db.schema}.stage_meta ORDER BY app, stage`);

  it("keeps it as one stage_meta row per stage holding its JSON text exactly, key order and \\u0000 included, apart from the records", async () => {
    const meta = { z: 1, a: { "数据": "nul:\u0000", list: [2, 1] } };
    await (await open()).setStageMeta(meta);
    await (await open(["other", "prod"])).setStageMeta({ other: true });
    expect(await metaRows()).toEqual([
      { app: "app", stage: "dev", body: JSON.stringify(meta) },
      { app: "other", stage: "prod", body: '{"other":true}' },
    ]);
    expect(await db.query(`SELECT count(*)::int AS n FROM ${db.schema}.records`)).toEqual([{ n: 0 }]);
    expect(JSON.stringify(await (await open()).getStageMeta())).toBe(JSON.stringify(meta));
  });

  it("rejects an unreadable row with a StateStoreError naming the table, app and stage, and how to remove it, and changes nothing", async () => {
    const store = await open();
    await store.setStageMeta({ a: 1 });
    for (const [body, problem] of [['{"a": ', /is not valid JSON/], ["[1]", /is an array, not a JSON object/]] as const) {
      await db.query(`UPDATE ${db.schema}.stage_meta SET body = $1`, [body]);
      const error = await store.getStageMeta().then(() => undefined, (e: unknown) => e);
      expect(error, body).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).location).toBe(`postgres://127.0.0.1:5432/test#${db.schema}.stage_meta app=app stage=dev`);
      expect((error as Error).message).toMatch(problem);
      expect((error as Error).message).toContain(`DELETE FROM "${db.schema}".stage_meta WHERE app = 'app' AND stage = 'dev'`);
      expect(await metaRows()).toEqual([{ app: "app", stage: "dev", body }]);
    }
  });

  it("commits a metadata write in the same transaction as the record writes made in the same tick, the last metadata winning", async () => {
    const store = await open();
    await Promise.all([store.set("a", state(STAGE, "a")), store.setStageMeta({ v: 1 }), store.set("b", state(STAGE, "b")), store.setStageMeta({ v: 2 })]);
    expect(await store.getStageMeta()).toEqual({ v: 2 });
    // now() is the time its transaction started: one time for every row means one transaction.
    const times = await db.query(`SELECT updated_at FROM ${db.schema}.records UNION SELECT updated_at FROM ${db.schema}.stage_meta`);
    expect(times).toHaveLength(1);
  });

  it("lets a read made right after an unawaited metadata write see it", async () => {
    const writer = await open();
    const reader = await open();
    const written = writer.setStageMeta({ pending: true });
    expect(await reader.getStageMeta()).toEqual({ pending: true });
    await written;
  });

  it.each([
    ["write", (store: PostgresStateStore) => store.setStageMeta({ writer: "late" })],
    ["deletion", (store: PostgresStateStore) => store.deleteStageMeta()],
  ])("rejects with LockLostError the metadata %s, and the records written with it, once another run took the lock, leaving the row", async (_, change) => {
    const store = await open();
    const lock = await store.lock(request("mine"));
    await store.setStageMeta({ writer: "mine" });
    await db.query(`UPDATE ${db.schema}.stage_locks SET id = 'stolen', token = token + 1 WHERE app = 'app' AND stage = 'dev'`);
    const results = await Promise.allSettled([change(store), store.set("api", state(STAGE, "api"))]);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(LockLostError);
      expect(((result as PromiseRejectedResult).reason as LockLostError).current?.id).toBe("stolen");
    }
    expect(await metaRows()).toEqual([{ app: "app", stage: "dev", body: '{"writer":"mine"}' }]);
    expect(await store.list()).toEqual([]);
    await lock.release();
  });

  it("deletes the stage's row, in the stage's batch with the writes made in the same tick, the last of them winning", async () => {
    const store = await open();
    await (await open(["other", "prod"])).setStageMeta({ other: true });
    await store.setStageMeta({ v: 1 });
    await Promise.all([store.set("a", state(STAGE, "a")), store.deleteStageMeta()]);
    expect(await metaRows()).toEqual([{ app: "other", stage: "prod", body: '{"other":true}' }]);
    await Promise.all([store.setStageMeta({ v: 2 }), store.deleteStageMeta()]);
    expect(await store.getStageMeta()).toBeUndefined();
    await Promise.all([store.deleteStageMeta(), store.setStageMeta({ v: 3 })]);
    expect(await store.getStageMeta()).toEqual({ v: 3 });
    expect(await store.list()).toEqual(["a"]);
  });
});
