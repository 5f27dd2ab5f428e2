import os from "node:os";
import { describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { takeOverInAnotherProcess } from "../fs/take-over.test-fixture.js";
import { LockLostError, type LockRequest } from "../stage-lock.js";
import { acquireDatabase, releaseDatabase } from "./database-registry.js";
import { testRecord, useSqliteFile } from "./sqlite-file.test-fixture.js";

const STAGE = ["app", "dev"];
const state = testRecord;
const request = (command: string, leaseMs = 30_000): LockRequest => ({
  holder: { user: "tester", host: os.hostname(), pid: process.pid, command }, leaseMs, timeoutMs: 0,
});

describe("SQLiteStateStore stage metadata", () => {
  const sqlite = useSqliteFile("alchemy-sqlite-meta-");
  const { inspect } = sqlite;
  const open = (chain: readonly string[] = STAGE) => sqlite.open(chain);
  const metaRows = () => inspect((db) => db.prepare("SELECT app, stage, body FROM stage_meta ORDER BY app, stage").all());

  it("keeps it as one stage_meta row per stage holding its JSON text exactly, apart from the records", async () => {
    const meta = { z: 1, a: { "数据": "nul:\u0000", list: [2, 1] } };
    await (await open()).setStageMeta(meta);
    await (await open(["other", "prod"])).setStageMeta({ other: true });
    expect(metaRows()).toEqual([
      { app: "app", stage: "dev", body: JSON.stringify(meta) },
      { app: "other", stage: "prod", body: '{"other":true}' },
    ]);
    expect(inspect((db) => db.prepare("SELECT count(*) FROM records").pluck().get())).toBe(0);
  });

  it("rejects an unreadable row with a StateStoreError naming <file>#stage_meta app/stage and how to remove it, and changes nothing", async () => {
    const store = await open();
    await store.setStageMeta({ a: 1 });
    for (const [body, problem] of [['{"a": ', /is not valid JSON/], ["[1]", /is an array, not a JSON object/]] as const) {
      inspect((db) => db.prepare("UPDATE stage_meta SET body = ?").run(body));
      const error = await store.getStageMeta().then(() => undefined, (e: unknown) => e);
      expect(error, body).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).location).toBe(`${sqlite.filename}#stage_meta app/dev`);
      expect((error as Error).message).toMatch(problem);
      expect((error as Error).message).toContain(`DELETE FROM stage_meta WHERE app = 'app' AND stage = 'dev'`);
      expect(metaRows()).toEqual([{ app: "app", stage: "dev", body }]);
    }
  });

  it("commits a metadata write in the same transaction as the record writes requested in the same tick", async () => {
    const store = await open();
    const db = acquireDatabase(sqlite.filename);
    try {
      const before = db.batches;
      await Promise.all([store.set("a", state(STAGE, "a")), store.setStageMeta({ v: 1 }), store.set("b", state(STAGE, "b")), store.setStageMeta({ v: 2 })]);
      expect(db.batches - before).toBe(1);
    } finally {
      releaseDatabase(db);
    }
    expect(await store.getStageMeta()).toEqual({ v: 2 });
    const times = inspect((db) => db.prepare("SELECT updated_at FROM records UNION SELECT updated_at FROM stage_meta").pluck().all());
    expect(times).toHaveLength(1);
  });

  it("sees a metadata write not yet committed, as record reads do", async () => {
    const writer = await open();
    const reader = await open();
    const written = writer.setStageMeta({ pending: true });
    expect(await reader.getStageMeta()).toEqual({ pending: true });
    await written;
  });

  it("refuses the metadata write of this process once another process changed the lock row, with LockLostError, leaving the row", async () => {
    const store = await open();
    const lock = await store.lock(request("mine"));
    await store.setStageMeta({ writer: "mine" });
    inspect((db) => db.prepare("UPDATE stage_locks SET id = 'stolen', token = token + 1 WHERE app = 'app' AND stage = 'dev'").run());
    const refused = await store.setStageMeta({ writer: "late" }).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(LockLostError);
    expect((refused as LockLostError).current?.id).toBe("stolen");
    expect(await store.getStageMeta()).toEqual({ writer: "mine" });
    await lock.release();
  });

  it("deletes the stage's row, in the same transaction as the writes requested in the same tick, the last of them winning", async () => {
    const store = await open();
    await (await open(["other", "prod"])).setStageMeta({ other: true });
    await store.setStageMeta({ v: 1 });
    const db = acquireDatabase(sqlite.filename);
    try {
      const before = db.batches;
      await Promise.all([store.set("a", state(STAGE, "a")), store.deleteStageMeta()]);
      expect(db.batches - before).toBe(1);
      await Promise.all([store.setStageMeta({ v: 2 }), store.deleteStageMeta()]);
    } finally {
      releaseDatabase(db);
    }
    expect(metaRows()).toEqual([{ app: "other", stage: "prod", body: '{"other":true}' }]);
    expect(await store.getStageMeta()).toBeUndefined();
    expect(await store.list()).toEqual(["a"]);
  });

  it("refuses the metadata deletion of this process once another process changed the lock row, with LockLostError, leaving the row", async () => {
    const store = await open();
    const lock = await store.lock(request("mine"));
    await store.setStageMeta({ writer: "mine" });
    inspect((db) => db.prepare("UPDATE stage_locks SET id = 'stolen', token = token + 1 WHERE app = 'app' AND stage = 'dev'").run());
    const refused = await store.deleteStageMeta().then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(LockLostError);
    expect((refused as LockLostError).lockId).toBe(lock.info.id);
    expect((refused as LockLostError).current?.id).toBe("stolen");
    expect(metaRows()).toEqual([{ app: "app", stage: "dev", body: '{"writer":"mine"}' }]);
    await lock.release();
  });

  it("refuses the metadata write of a holder whose stale lock another process took over", { timeout: 60_000 }, async () => {
    const store = await open();
    const lock = await store.lock(request("stalled", 200));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const taken = takeOverInAnotherProcess(`sqlite:${sqlite.filename}`, "app", "dev");
    expect(taken.tookOverFrom).toBe(lock.info.id);
    const refused = await store.setStageMeta({ writer: "stalled" }).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(LockLostError);
    expect((refused as LockLostError).current?.id).toBe(taken.id);
    expect(await store.getStageMeta()).toBeUndefined();
    await lock.release();
  });
});
