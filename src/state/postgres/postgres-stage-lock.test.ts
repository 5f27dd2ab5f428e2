import { spawnSync } from "node:child_process";
import os from "node:os";
import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { describeStageLock } from "../../testing/stage-lock-conformance.js";
import { LockLostError, StageLockedError, type LockHolder } from "../stage-lock.js";
import type { State } from "../state-store.js";
import { resolveTarget } from "./connection-string.js";
import { openReferences } from "./database-registry.js";
import { createTestSchema, useTestSchema } from "./postgres.test-fixture.js";
import { PostgresStateStore } from "./postgres-state-store.js";

// Each contender gets its own pool (the registry keys pools by connection string), as separate processes would.
describeStageLock("PostgresStateStore", async () => {
  const db = await createTestSchema();
  let pools = 0;
  return {
    factory: (scope) => new PostgresStateStore(scope, db.options()),
    reopen: () => {
      const connectionString = `${db.connectionString}?application_name=contender${++pools}`;
      return (scope) => new PostgresStateStore(scope, { connectionString, schema: db.schema });
    },
    cleanup: () => db.drop(),
    fencesPerFactory: true,
  };
});

const holder = (command: string, pid = process.pid, host = os.hostname()): LockHolder => ({ user: "tester", host, pid, command });
const request = (command: string, leaseMs = 30_000) => ({ holder: holder(command), leaseMs, timeoutMs: 0 });
const state = (chain: readonly string[], id: string): State => ({
  status: "created", kind: "test::Thing", id, fqn: [...chain, id].join("/"), seq: 1,
  data: {}, props: { name: id }, output: { ok: true }, deps: [],
});

describe("PostgresStateStore stage locks", () => {
  const db = useTestSchema();
  const stores: PostgresStateStore[] = [];
  const open = async (chain: readonly string[], connectionString = db.connectionString) => {
    const store = new PostgresStateStore({ chain }, { connectionString, schema: db.schema });
    stores.push(store);
    await store.init();
    return store;
  };
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const store of stores.splice(0)) await store.deinit();
  });
  const lockRow = async (stage = "dev") =>
    (await db.query(`SELECT id, token::int AS token, holder FROM ${db.schema}.stage_locks WHERE app = 'app' AND stage = $1`, [stage]))[0];
  /** Puts a lock row in place as another run would have left it. */
  const plant = (id: string, who: LockHolder, leaseMs: number, beatAgo = "0 s") =>
    db.query(
      `INSERT INTO ${db.schema}.stage_locks VALUES ('app', 'dev', $1, 7, $2, now() - $3::interval, now() - $3::interval, $4)`,
      [id, JSON.stringify(who), beatAgo, leaseMs],
    );

  it("keeps the stage's row after release with its id cleared, and grows the fencing token on every acquisition", async () => {
    const store = await open(["app", "dev"]);
    const first = await store.lock(request("one"));
    expect(await lockRow()).toEqual({ id: first.info.id, token: 1, holder: holder("one") });
    expect(first.info).toMatchObject({ token: 1, leaseMs: 30_000 });
    await first.release();
    expect(await lockRow()).toEqual({ id: null, token: 1, holder: null });
    const second = await store.lock(request("two"));
    expect(second.info.token).toBe(2);
    await second.release();
    expect(await lockRow()).toEqual({ id: null, token: 2, holder: null });
  });

  it("moves heartbeat_at forward by the database's clock on each heartbeat", async () => {
    const store = await open(["app", "dev"]);
    const lock = await store.lock(request("one"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await lock.heartbeat();
    const [row] = await db.query<{ beat: Date; acquired: Date }>(`SELECT heartbeat_at AS beat, acquired_at AS acquired FROM ${db.schema}.stage_locks`);
    expect(row!.beat.getTime()).toBeGreaterThan(row!.acquired.getTime());
    expect((await store.lockInfo())?.heartbeatAt).toEqual(row!.beat);
    await lock.release();
  });

  it("refuses to lock, read or unlock through a store that is not a stage scope's, saying which store can", async () => {
    for (const chain of [["app"], ["app", "dev", "nested"]]) {
      const store = await open(chain);
      for (const call of [() => store.lock(request("x")), () => store.lockInfo(), () => store.forceUnlock("id")]) {
        const error = await call().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(StateStoreError);
        expect((error as Error).message).toMatch(/stage locks belong to the store of a stage scope \(app\/stage\)\. Call it on the store made for the stage's chain/);
        expect((error as StateStoreError).location).toBe(`postgres://127.0.0.1:5432/test#${db.schema}.stage_locks scope=${chain.join("/")}`);
      }
    }
  });

  it("names the holder and postgres://host/db#schema.stage_locks, never the password, when the stage is locked", async () => {
    const url = new URL(db.connectionString);
    url.password = "hunter2"; // the test server trusts local connections and ignores it
    const lock = await (await open(["app", "dev"], url.href)).lock(request("deploy one"));
    const other = await open(["app", "dev"]);
    const started = Date.now();
    const error = await other.lock({ ...request("deploy two"), timeoutMs: 600 }).then(() => undefined, (e: unknown) => e);
    const waited = Date.now() - started;
    expect(error).toBeInstanceOf(StageLockedError);
    expect((error as StageLockedError).location).toBe(`postgres://127.0.0.1:5432/test#${db.schema}.stage_locks`);
    expect((error as Error).message).toContain(`(deploy one), lock id ${lock.info.id}`);
    expect((error as Error).message).toContain("; waited 1s");
    expect((error as Error).message).not.toContain("hunter2");
    expect(waited).toBeGreaterThanOrEqual(600);
    expect(waited).toBeLessThan(1_500);
    await lock.release();
  });

  it("rejects with LockLostError every write to any scope of the stage once another run took the lock, while other stages commit", async () => {
    const stage = await open(["app", "dev"]);
    const nested = await open(["app", "dev", "backend"]);
    const prod = await open(["app", "prod"]);
    const lock = await stage.lock(request("mine"));
    await stage.set("before", state(["app", "dev"], "before"));

    const thief = holder("thief", 1, "elsewhere");
    await db.query(`UPDATE ${db.schema}.stage_locks SET id = 'stolen', token = token + 1, holder = $1 WHERE app = 'app' AND stage = 'dev'`, [JSON.stringify(thief)]);
    const results = await Promise.allSettled([
      stage.set("after", state(["app", "dev"], "after")),
      nested.delete("anything"),
      nested.set("db", state(["app", "dev", "backend"], "db")),
      prod.set("other-stage", state(["app", "prod"], "other-stage")),
    ]);
    for (const result of results.slice(0, 3)) {
      expect(result.status).toBe("rejected");
      const reason = (result as PromiseRejectedResult).reason as LockLostError;
      expect(reason).toBeInstanceOf(LockLostError);
      expect(reason.lockId).toBe(lock.info.id);
      expect(reason.current).toMatchObject({ id: "stolen", token: 2, holder: thief });
      expect(reason.message).toContain(`Lost the lock ${lock.info.id} on stage "dev" (app/dev): tester@elsewhere pid 1 (thief) holds it now (lock id stolen)`);
    }
    expect(results[3]!.status).toBe("fulfilled");
    expect(await stage.list()).toEqual(["before"]);
    expect(await nested.list()).toEqual([]);
    expect(await prod.list()).toEqual(["other-stage"]);

    await expect(lock.heartbeat()).rejects.toMatchObject({ name: "LockLostError", current: { id: "stolen" } });
    await lock.release();
    expect(await lockRow()).toMatchObject({ id: "stolen" });
    // Released: this process no longer locks the stage, so its writes are no longer checked.
    await stage.set("after-release", state(["app", "dev"], "after-release"));
    expect((await stage.list()).sort()).toEqual(["after-release", "before"]);
  });

  it("rejects a write that waited on the lock row while a takeover committed", async () => {
    const store = await open(["app", "dev"]);
    const lock = await store.lock(request("mine"));
    const thief = new pg.Client({ connectionString: db.connectionString });
    await thief.connect();
    try {
      await thief.query("BEGIN");
      await thief.query(`UPDATE ${db.schema}.stage_locks SET id = 'thief', token = token + 1 WHERE app = 'app' AND stage = 'dev'`);
      let settled = false;
      const write = store.set("api", state(["app", "dev"], "api")).finally(() => (settled = true));
      write.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false); // the batch waits for the takeover's row lock
      await thief.query("COMMIT");
      await expect(write).rejects.toMatchObject({ name: "LockLostError", current: { id: "thief" } });
    } finally {
      await thief.end();
    }
    expect(await store.list()).toEqual([]);
    await lock.release();
  });

  it("takes over at once a lock held by a process of this host that is gone, within its lease", async () => {
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const deadPid = Number(gone.stdout);
    const store = await open(["app", "dev"]);
    await plant("dead-lock", holder("killed run", deadPid), 600_000);
    expect(await store.lockInfo()).toMatchObject({ id: "dead-lock", token: 7, leaseMs: 600_000 });
    const lock = await store.lock(request("next"));
    expect(lock.tookOverFrom).toMatchObject({ id: "dead-lock", token: 7, holder: { pid: deadPid } });
    expect(lock.info.token).toBe(8);
    await lock.release();
  });

  it("judges a lease by the database's clock: a machine whose clock runs an hour ahead does not take over a live lock, and one an hour behind takes over a lapsed one", async () => {
    const store = await open(["app", "dev"]);
    const remote = holder("remote run", 4242, "build-7");
    await plant("remote-lock", remote, 60_000, "30 s");
    const realNow = Date.now();
    vi.spyOn(Date, "now").mockReturnValue(realNow + 3_600_000);
    await expect(store.lock(request("ahead"))).rejects.toBeInstanceOf(StageLockedError);
    await db.query(`UPDATE ${db.schema}.stage_locks SET heartbeat_at = now() - interval '61 s'`);
    vi.spyOn(Date, "now").mockReturnValue(realNow - 3_600_000);
    const lock = await store.lock(request("behind"));
    expect(lock.tookOverFrom).toMatchObject({ id: "remote-lock", holder: remote });
    vi.restoreAllMocks();
    await lock.release();
  });

  it("keeps its pool open while held, even once the stores are closed, and lets it go on release", async () => {
    const target = resolveTarget(db.options(), {});
    const store = await open(["app", "dev"]);
    const lock = await store.lock(request("one"));
    await store.set("api", state(["app", "dev"], "api"));
    expect(openReferences(target)).toBe(2);
    for (const s of stores.splice(0)) await s.deinit();
    expect(openReferences(target)).toBe(1);
    await lock.heartbeat();
    await lock.release();
    expect(openReferences(target)).toBe(0);
    expect(await lockRow()).toMatchObject({ id: null });
    await expect(lock.heartbeat()).rejects.toBeInstanceOf(LockLostError);
  });

  it("lets the writes made under the lock land, still fenced, before release frees the stage", async () => {
    const store = await open(["app", "dev"]);
    const lock = await store.lock(request("one"));
    const writes = Array.from({ length: 50 }, (_, i) => store.set(`r-${i}`, state(["app", "dev"], `r-${i}`)));
    await lock.release();
    await Promise.all(writes);
    expect(await store.count()).toBe(50);
    expect(await lockRow()).toMatchObject({ id: null });
  });
});
