import { spawnSync } from "node:child_process";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { describeStageLock } from "../../testing/stage-lock-conformance.js";
import { LockLostError, StageLockedError, type LockHolder } from "../stage-lock.js";
import { openDatabaseRefs } from "./database-registry.js";
import { SQLiteStateStore } from "./sqlite-state-store.js";
import { sqliteHarness, testRecord, useSqliteFile } from "./sqlite-file.test-fixture.js";

describeStageLock("SQLiteStateStore", () => sqliteHarness("alchemy-sqlite-lock-"));

const holder = (command: string, pid = process.pid): LockHolder => ({ user: "tester", host: os.hostname(), pid, command });
const request = (command: string) => ({ holder: holder(command), leaseMs: 30_000, timeoutMs: 0 });
const state = testRecord;

describe("SQLiteStateStore stage locks", () => {
  const sqlite = useSqliteFile("alchemy-sqlite-lock-");
  const { open, inspect } = sqlite;
  const lockRow = () => inspect((db) => db.prepare("SELECT id, token, holder FROM stage_locks WHERE app = 'app' AND stage = 'dev'").get());

  it("keeps the stage's row after release with its id cleared, and grows the fencing token on every acquisition", async () => {
    const store = await open(["app", "dev"]);
    const first = await store.lock(request("one"));
    expect(lockRow()).toEqual({ id: first.info.id, token: 1, holder: JSON.stringify(holder("one")) });
    await first.release();
    expect(lockRow()).toEqual({ id: null, token: 1, holder: null });
    const second = await store.lock(request("two"));
    expect(second.info.token).toBe(2);
    await second.release();
    expect(lockRow()).toEqual({ id: null, token: 2, holder: null });
  });

  it("refuses to lock, read or unlock through a store that is not a stage scope's, saying which store can", async () => {
    for (const chain of [["app"], ["app", "dev", "nested"]]) {
      const store = await open(chain);
      for (const call of [() => store.lock(request("x")), () => store.lockInfo(), () => store.forceUnlock("id")]) {
        const error = await call().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(StateStoreError);
        expect((error as Error).message).toMatch(/stage locks belong to the store of a stage scope \(app\/stage\)/);
        expect((error as StateStoreError).location).toBe(`${sqlite.filename}#${chain.join("/")}`);
      }
    }
  });

  it("names the holder and the stage_locks table of the file when the stage is locked", async () => {
    const lock = await (await open(["app", "dev"])).lock(request("deploy one"));
    const other = new SQLiteStateStore({ chain: ["app", "dev"] }, { filename: sqlite.filename });
    sqlite.track(other);
    const error = await other.lock(request("deploy two")).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StageLockedError);
    expect((error as StageLockedError).location).toBe(`${sqlite.filename}#stage_locks`);
    expect((error as Error).message).toContain(`(deploy one), lock id ${lock.info.id}`);
    await lock.release();
  });

  it("rejects with LockLostError every write to any scope of the stage once another process took the lock, while the rest of the batch commits", async () => {
    const stage = await open(["app", "dev"]);
    const nested = await open(["app", "dev", "backend"]);
    const prod = await open(["app", "prod"]);
    const lock = await stage.lock(request("mine"));
    await stage.set("before", state(["app", "dev"], "before"));

    const thief = holder("thief", 1);
    inspect((db) => db.prepare("UPDATE stage_locks SET id = 'stolen', token = token + 1, holder = ? WHERE app = 'app' AND stage = 'dev'").run(JSON.stringify(thief)));
    const results = await Promise.allSettled([
      stage.set("after", state(["app", "dev"], "after")),
      nested.delete("anything"),
      prod.set("other-stage", state(["app", "prod"], "other-stage")),
    ]);
    for (const result of results.slice(0, 2)) {
      expect(result.status).toBe("rejected");
      const reason = (result as PromiseRejectedResult).reason as LockLostError;
      expect(reason).toBeInstanceOf(LockLostError);
      expect(reason.lockId).toBe(lock.info.id);
      expect(reason.current).toMatchObject({ id: "stolen", holder: thief });
    }
    expect(results[2]!.status).toBe("fulfilled");
    expect(await stage.list()).toEqual(["before"]);
    expect(await prod.list()).toEqual(["other-stage"]);

    await expect(lock.heartbeat()).rejects.toBeInstanceOf(LockLostError);
    await lock.release();
    expect(lockRow()).toMatchObject({ id: "stolen" });
    await stage.set("after-release", state(["app", "dev"], "after-release"));
    expect(await stage.list()).toEqual(["after-release", "before"]);
  });

  it("takes over at once a lock held by a process of this host that is gone, within its lease", async () => {
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const deadPid = Number(gone.stdout);
    const now = Date.now();
    await open(["app", "dev"]);
    inspect((db) =>
      db
        .prepare("INSERT INTO stage_locks VALUES ('app', 'dev', 'dead-lock', 7, ?, ?, ?, 600000)")
        .run(JSON.stringify(holder("killed run", deadPid)), now, now),
    );
    const store = await open(["app", "dev"]);
    expect(await store.lockInfo()).toMatchObject({ id: "dead-lock", token: 7, leaseMs: 600_000 });
    const lock = await store.lock(request("next"));
    expect(lock.tookOverFrom).toMatchObject({ id: "dead-lock", holder: { pid: deadPid } });
    expect(lock.info.token).toBe(8);
    await lock.release();
  });

  it("keeps its connection open while held, even once the stores are closed, and lets it go on release", async () => {
    const store = await open(["app", "dev"]);
    const lock = await store.lock(request("one"));
    await store.set("api", state(["app", "dev"], "api"));
    await sqlite.closeAll();
    expect(openDatabaseRefs(sqlite.filename)).toBe(1);
    await lock.heartbeat();
    await lock.release();
    expect(openDatabaseRefs(sqlite.filename)).toBe(0);
    expect(lockRow()).toMatchObject({ id: null });
    await expect(lock.heartbeat()).rejects.toBeInstanceOf(LockLostError);
  });
});
