import os from "node:os";
import { describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { DEFAULT_TOKEN } from "../../providers/cloudflare/remote/fake/fake-cloudflare.test-fixture.js";
import { describeStageLock } from "../../testing/stage-lock-conformance.js";
import { LockLostError, StageLockedError, type LockHolder } from "../stage-lock.js";
import { R2RestStateStore, type R2RestStateStoreOptions } from "./r2-rest-state-store.js";
import { fakeOptions, freshBucket, objectText, record, separateFetch, useFakeCloudflare } from "./r2-rest.test-fixture.js";

const fake = useFakeCloudflare();

// Each contender gets its own fetch, hence its own client and fence, as separate processes would.
describeStageLock("R2RestStateStore", async () => {
  const f = await fake();
  const options = fakeOptions(f, await freshBucket(f), { prefix: "locks" });
  return {
    factory: (scope) => new R2RestStateStore(scope, options),
    reopen: () => {
      const own = separateFetch();
      return (scope) => new R2RestStateStore(scope, { ...options, fetch: own });
    },
    fencesPerFactory: true,
  };
});

const STAGE = ["app", "dev"];
const holder = (command: string): LockHolder => ({ user: "tester", host: os.hostname(), pid: process.pid, command });
const request = (command: string, leaseMs = 30_000) => ({ holder: holder(command), leaseMs, timeoutMs: 0 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("R2RestStateStore stage locks", () => {
  /** A bucket, and a function making stores on it as one "process" (one fetch) sees them. */
  const setup = async () => {
    const f = await fake();
    const bucket = await freshBucket(f);
    const processes = () => {
      const options: R2RestStateStoreOptions = fakeOptions(f, bucket, { fetch: separateFetch() });
      return (chain: readonly string[]) => new R2RestStateStore({ chain }, options);
    };
    const lockObject = () => JSON.parse(objectText(f, bucket, "app/dev/~lock.json") ?? "null");
    return { f, bucket, processes, lockObject };
  };

  it("creates the lock object with If-None-Match: *, renews and releases it with If-Match, and grows the token with every acquisition", async () => {
    const { f, bucket, processes, lockObject } = await setup();
    const store = processes()(STAGE);
    const first = await store.lock(request("one"));
    expect(lockObject()).toMatchObject({ id: first.info.id, token: 1, holder: holder("one"), leaseMs: 30_000 });
    await first.heartbeat();
    await first.release();
    expect(lockObject()).toEqual({ id: null, token: 1 });
    const second = await store.lock(request("two"));
    expect(second.info.token).toBe(2);
    await second.release();
    expect(lockObject()).toEqual({ id: null, token: 2 });
    const lockWrites = f.requests.filter((r) => r.method === "PUT" && r.path.endsWith(`/${bucket}/objects/app/dev/~lock.json`));
    expect(lockWrites[0]!.headers["if-none-match"]).toBe("*");
    for (const put of lockWrites.slice(1)) expect(put.headers["if-match"]).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it("refuses to lock on an endpoint that ignores conditional PUTs, found by a probe that must fail with 412", async () => {
    const { f, bucket } = await setup();
    const ignoring: typeof fetch = (input, init) => {
      const headers = { ...(init?.headers as Record<string, string>) };
      delete headers["if-match"];
      delete headers["if-none-match"];
      return fetch(input, { ...init, headers });
    };
    const store = new R2RestStateStore({ chain: STAGE }, fakeOptions(f, bucket, { fetch: ignoring }));
    const error = await store.lock(request("one")).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toMatch(/^Refusing to lock stage "dev" in r2:\/\/state-[\d-]+\/app\/dev\/: the endpoint http:\/\/127\.0\.0\.1:\d+\/client\/v4 does not honour conditional PUTs \(a second If-None-Match: \* PUT of the same key succeeded; an If-Match PUT with a wrong ETag succeeded\)/);
    expect(objectText(f, bucket, "app/dev/~lock.json")).toBeUndefined();
    expect([...(f.state.r2Buckets.get(`${f.accountId}/default/${bucket}`)?.objects.keys() ?? [])]).toEqual([]); // the probe cleaned up
  });

  it("fences the old holder's writes after a takeover past its lease, in every scope of the stage, and keeps the new holder's", async () => {
    const { processes } = await setup();
    const [mine, theirs] = [processes(), processes()];
    const old = await mine(STAGE).lock(request("stalled", 300));
    await mine(STAGE).set("before", record(STAGE, "before"));
    await sleep(450);
    const taken = await theirs(STAGE).lock(request("next"));
    await theirs(STAGE).set("api", record(STAGE, "api", { seq: 2 }));
    const results = await Promise.allSettled([
      mine(STAGE).set("api", record(STAGE, "api", { seq: 99 })),
      mine([...STAGE, "backend"]).set("db", record([...STAGE, "backend"], "db")),
      mine(STAGE).delete("before"),
    ]);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(LockLostError);
      expect(((result as PromiseRejectedResult).reason as LockLostError).lockId).toBe(old.info.id);
    }
    expect((await theirs(STAGE).get("api"))?.seq).toBe(2);
    expect((await theirs(STAGE).list()).sort()).toEqual(["api", "before"]);
    expect(await theirs([...STAGE, "backend"]).list()).toEqual([]);
    await expect(old.heartbeat()).rejects.toBeInstanceOf(LockLostError);
    await old.release();
    expect((await theirs(STAGE).lockInfo())?.id).toBe(taken.info.id);
    await taken.release();
  });

  it("catches by reading the lock object a takeover the lease cannot explain (unlock, then another run's lock), before writing", async () => {
    const { processes, f, bucket } = await setup();
    const [mine, theirs] = [processes(), processes()];
    const old = await mine(STAGE).lock(request("mine"));
    expect(await theirs(STAGE).forceUnlock(old.info.id)).toBe(true);
    const taken = await theirs(STAGE).lock(request("thief"));
    const error = await mine(STAGE).set("api", record(STAGE, "api")).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).current).toMatchObject({ id: taken.info.id, token: 2, holder: holder("thief") });
    expect((error as Error).message).toContain(`Lost the lock ${old.info.id} on stage "dev" (app/dev): tester@${os.hostname()} pid ${process.pid} (thief) holds it now`);
    expect(objectText(f, bucket, "app/dev/api.json")).toBeUndefined();
    // Sticky: the next write is refused without asking again.
    const before = f.requests.length;
    await expect(mine(STAGE).setStageMeta({ late: true })).rejects.toBe(error);
    expect(f.requests.length).toBe(before);
    await taken.release();
  });

  it("does not send a retry of a write once the lease ran out while the client waited", async () => {
    const { processes, f, bucket } = await setup();
    const store = processes()(STAGE);
    const lock = await store.lock(request("slow", 400));
    f.failNext({ method: "PUT", path: new RegExp(`/${bucket}/objects/app/dev/api\\.json$`) }, { status: 503, times: 5 });
    const error = await store.set("api", record(STAGE, "api")).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as Error).message).toMatch(/could not renew it for \d+s, longer than its lease of 0s allows/);
    const puts = f.requests.filter((r) => r.method === "PUT" && r.path.endsWith(`/${bucket}/objects/app/dev/api.json`));
    expect(puts.length).toBeLessThan(5);
    expect(objectText(f, bucket, "app/dev/api.json")).toBeUndefined();
    await lock.release();
  });

  it("takes a heartbeat whose answer was lost after it landed for its own, not for a takeover", async () => {
    const { processes, f, bucket } = await setup();
    const store = processes()(STAGE);
    const lock = await store.lock(request("one"));
    f.failNext({ method: "PUT", path: new RegExp(`/${bucket}/objects/app/dev/~lock\\.json$`) }, { status: 500, afterApplying: true });
    await lock.heartbeat(); // retried by the client with the old ETag: 412, then read back as ours
    await store.set("api", record(STAGE, "api"));
    await lock.heartbeat();
    await lock.release();
    expect(await store.lockInfo()).toBeUndefined();
  });

  it("shares one lock read between the writes asked for together, and lets them land, fenced, before release frees the stage", async () => {
    const { processes, f, bucket } = await setup();
    const store = processes()(STAGE);
    const lock = await store.lock(request("one"));
    const before = f.requests.length;
    const writes = Array.from({ length: 50 }, (_, i) => store.set(`r-${i}`, record(STAGE, `r-${i}`)));
    await lock.release();
    await Promise.all(writes);
    const lockReads = f.requests.slice(before).filter((r) => r.method === "GET" && r.path.endsWith(`/${bucket}/objects/app/dev/~lock.json`));
    expect(lockReads.length).toBeLessThanOrEqual(3); // one for the 50 writes, and release's
    expect(await store.count()).toBe(50);
    expect(await store.lockInfo()).toBeUndefined();
  });

  it("names the holder and the lock object r2://bucket/key when the stage is locked, and refuses locks outside a stage's store", async () => {
    const { processes, bucket } = await setup();
    const [mine, theirs] = [processes(), processes()];
    const lock = await mine(STAGE).lock(request("deploy one"));
    const error = await theirs(STAGE).lock({ ...request("deploy two"), timeoutMs: 600 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StageLockedError);
    expect((error as StageLockedError).location).toBe(`r2://${bucket}/app/dev/~lock.json`);
    expect((error as Error).message).toContain(`(deploy one), lock id ${lock.info.id}`);
    expect((error as Error).message).toContain("; waited 1s");
    for (const chain of [["app"], ["app", "dev", "nested"]]) {
      const store = mine(chain);
      for (const call of [() => store.lock(request("x")), () => store.lockInfo(), () => store.forceUnlock("id")]) {
        await expect(call()).rejects.toThrow(/stage locks belong to the store of a stage scope \(app\/stage\)/);
      }
    }
    await lock.release();
  });

  it("reports a damaged lock object naming its key, and changes nothing", async () => {
    const { processes, f, bucket } = await setup();
    await fetch(`${f.baseUrl}/accounts/${f.accountId}/r2/buckets/${bucket}/objects/app/dev/~lock.json`, {
      method: "PUT",
      headers: { authorization: `Bearer ${DEFAULT_TOKEN}` },
      body: '{"id":"x"}',
    });
    const error = await processes()(STAGE).lock(request("one")).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).location).toBe(`r2://${bucket}/app/dev/~lock.json`);
    expect((error as Error).message).toContain(`delete the object (wrangler r2 object delete ${bucket}/app/dev/~lock.json)`);
    expect(objectText(f, bucket, "app/dev/~lock.json")).toBe('{"id":"x"}');
  });
});
