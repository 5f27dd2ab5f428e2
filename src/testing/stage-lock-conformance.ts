/**
 * The conformance suite of the {@link StageLocking} protocol, for stores that
 * lock stages. Each case runs against a fresh `setup()` (the same harness as
 * `describeStateStore`); contenders are separate factories over one back end.
 *
 * Fencing of writes across processes is store-specific and tested beside each
 * store with real processes. The case that needs two holders of one stage in
 * this process runs only for a harness with `fencesPerFactory`.
 *
 * @module
 */
import os from "node:os";
import { describe, expect, it } from "vitest";
import { canLock, LockLostError, StageLockedError, type LockHolder, type StageLock, type StageLocking } from "../state/stage-lock.js";
import type { StateStore } from "../state/state-store.js";
import type { StateStoreHarness, StateStoreSetup } from "./state-store-conformance.js";

const holder = (command: string): LockHolder => ({ user: "tester", host: os.hostname(), pid: process.pid, command });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Registers the stage lock conformance suite under `name`.
 *
 * @example
 * describeStageLock("FileSystemStateStore", async () => ({ factory, reopen, cleanup }));
 */
export function describeStageLock(name: string, setup: StateStoreSetup): void {
  describe(`${name} keeps the stage lock protocol`, () => {
    type Stage = (app: string, stage: string) => Promise<StateStore & StageLocking>;
    const withStores = (fn: (stage: Stage, harness: StateStoreHarness, skip: () => void) => Promise<void>) => async (context: { skip: () => void }) => {
      const harness = await setup();
      const opened: StateStore[] = [];
      const stage = async (app: string, stageName: string) => {
        const factory = harness.reopen?.() ?? harness.factory;
        const store = factory({ chain: [app, stageName] });
        if (!canLock(store)) throw new Error(`${name} does not implement lock, lockInfo and forceUnlock.`);
        opened.push(store);
        return store;
      };
      try {
        await fn(stage, harness, () => context.skip());
      } finally {
        for (const store of opened) await store.deinit?.().catch(() => undefined);
        await harness.cleanup?.();
      }
    };

    it("records the holder while locked and nothing once released", withStores(async (stage) => {
      const store = await stage("app", "dev");
      const lock = await store.lock({ holder: holder("deploy one"), leaseMs: 30_000, timeoutMs: 0 });
      const info = await store.lockInfo();
      expect(info).toMatchObject({ id: lock.info.id, holder: holder("deploy one"), leaseMs: 30_000 });
      expect(info!.acquiredAt).toBeInstanceOf(Date);
      await lock.release();
      expect(await store.lockInfo()).toBeUndefined();
    }));

    it("refuses a second holder at once with StageLockedError naming the first, and lets it in after release", withStores(async (stage) => {
      const first = await stage("app", "dev");
      const second = await stage("app", "dev");
      const lock = await first.lock({ holder: holder("deploy one"), leaseMs: 30_000, timeoutMs: 0 });
      const started = Date.now();
      const refused = await second.lock({ holder: holder("deploy two"), leaseMs: 30_000, timeoutMs: 0 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(refused).toBeInstanceOf(StageLockedError);
      expect((refused as Error).message).toContain(`State for stage "dev" is locked by another process: tester@${os.hostname()} pid ${process.pid} (deploy one), lock id ${lock.info.id}`);
      await lock.release();
      const next = await second.lock({ holder: holder("deploy two"), leaseMs: 30_000, timeoutMs: 0 });
      expect(next.info.id).not.toBe(lock.info.id);
      await next.release();
    }));

    it("never makes runs on different stages or apps wait on each other", withStores(async (stage) => {
      const locks = await Promise.all(
        [["app", "dev"], ["app", "prod"], ["other", "dev"]].map(async ([a, s]) => (await stage(a!, s!)).lock({ holder: holder(`${a}/${s}`), leaseMs: 30_000, timeoutMs: 0 })),
      );
      expect(new Set(locks.map((l) => l.info.id)).size).toBe(3);
      await Promise.all(locks.map((l) => l.release()));
    }));

    it("waits up to timeoutMs for the holder to release", withStores(async (stage) => {
      const first = await stage("app", "dev");
      const second = await stage("app", "dev");
      const lock = await first.lock({ holder: holder("one"), leaseMs: 30_000, timeoutMs: 0 });
      setTimeout(() => void lock.release(), 300);
      const waited = await second.lock({ holder: holder("two"), leaseMs: 30_000, timeoutMs: 5_000 });
      expect(waited.info.holder.command).toBe("two");
      await waited.release();
    }));

    it("keeps a heartbeating lock past its lease", withStores(async (stage) => {
      const first = await stage("app", "dev");
      const second = await stage("app", "dev");
      // 10 × 150 ms outlasts the lease; each heartbeat has the lease minus its margin (960 ms) to land, which a
      // store answering over the network on a loaded machine needs (with 400 ms, a 170 ms heartbeat lost the lock).
      const lock = await first.lock({ holder: holder("one"), leaseMs: 1_200, timeoutMs: 0 });
      const started = performance.now();
      for (let i = 0; i < 10; i++) {
        await sleep(150);
        await lock.heartbeat();
      }
      expect(performance.now() - started).toBeGreaterThan(1_200);
      await expect(second.lock({ holder: holder("two"), leaseMs: 1_200, timeoutMs: 0 })).rejects.toBeInstanceOf(StageLockedError);
      await lock.release();
    }));

    it("lets the next run take over a lock whose lease ran out, saying from whom; the old holder's heartbeat then fails and its release leaves the new lock", withStores(async (stage) => {
      const first = await stage("app", "dev");
      const second = await stage("app", "dev");
      const old = await first.lock({ holder: holder("stalled"), leaseMs: 300, timeoutMs: 0 });
      await sleep(450);
      const taken = await second.lock({ holder: holder("next"), leaseMs: 30_000, timeoutMs: 0 });
      expect(taken.tookOverFrom).toMatchObject({ id: old.info.id, holder: holder("stalled") });
      await expect(old.heartbeat()).rejects.toBeInstanceOf(LockLostError);
      await old.release();
      expect((await second.lockInfo())?.id).toBe(taken.info.id);
      await taken.release();
    }));

    it("refuses the stage metadata write of a holder whose lock was taken over, with LockLostError, and keeps the new holder's", withStores(async (stage, harness, skip) => {
      // Two holders of one stage in one process are told apart only by stores that fence per factory.
      if (!harness.fencesPerFactory) return skip();
      const first = await stage("app", "dev");
      const second = await stage("app", "dev");
      if (first.setStageMeta === undefined || second.setStageMeta === undefined || second.getStageMeta === undefined) return skip();
      const old = await first.lock({ holder: holder("stalled"), leaseMs: 300, timeoutMs: 0 });
      await first.setStageMeta({ writer: "stalled" });
      await sleep(450);
      const taken = await second.lock({ holder: holder("next"), leaseMs: 30_000, timeoutMs: 0 });
      await second.setStageMeta({ writer: "next" });
      const refused = await first.setStageMeta({ writer: "stalled, late" }).then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(LockLostError);
      expect((refused as LockLostError).lockId).toBe(old.info.id);
      expect(await second.getStageMeta()).toEqual({ writer: "next" });
      await old.release();
      await taken.release();
    }));

    it("refuses the stage metadata deletion of a holder whose lock was taken over, with LockLostError, and keeps the metadata", withStores(async (stage, harness, skip) => {
      // Two holders of one stage in one process are told apart only by stores that fence per factory.
      if (!harness.fencesPerFactory) return skip();
      const first = await stage("app", "dev");
      const second = await stage("app", "dev");
      if (first.deleteStageMeta === undefined || second.setStageMeta === undefined || second.getStageMeta === undefined) return skip();
      const old = await first.lock({ holder: holder("stalled"), leaseMs: 300, timeoutMs: 0 });
      await sleep(450);
      const taken = await second.lock({ holder: holder("next"), leaseMs: 30_000, timeoutMs: 0 });
      await second.setStageMeta({ writer: "next" });
      const refused = await first.deleteStageMeta().then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(LockLostError);
      expect((refused as LockLostError).lockId).toBe(old.info.id);
      expect(await second.getStageMeta()).toEqual({ writer: "next" });
      await old.release();
      await taken.release();
    }));

    it("refuses the history writes of a holder whose lock was taken over, with LockLostError, and keeps the new holder's", withStores(async (stage, harness, skip) => {
      // Two holders of one stage in one process are told apart only by stores that fence per factory.
      if (!harness.fencesPerFactory) return skip();
      const first = await stage("app", "dev");
      const second = await stage("app", "dev");
      if (!first.appendHistory || !first.deleteHistory || !second.appendHistory || !second.listHistory) return skip();
      const item = (run: string, writer: string) => ({ run, entry: { writer }, snapshot: new Uint8Array([1, 2, 3]) });
      const old = await first.lock({ holder: holder("stalled"), leaseMs: 300, timeoutMs: 0 });
      await first.appendHistory(item("r1", "stalled"));
      await sleep(450);
      const taken = await second.lock({ holder: holder("next"), leaseMs: 30_000, timeoutMs: 0 });
      await second.appendHistory(item("r2", "next"));
      const appended = await first.appendHistory(item("r3", "stalled, late")).then(() => undefined, (e: unknown) => e);
      expect(appended).toBeInstanceOf(LockLostError);
      const deleted = await first.deleteHistory(["r1", "r2"]).then(() => undefined, (e: unknown) => e);
      expect(deleted).toBeInstanceOf(LockLostError);
      expect((await second.listHistory()).map((e) => e.run)).toEqual(["r2", "r1"]);
      await old.release();
      await taken.release();
    }));

    it("force-unlocks only the lock with the given id", withStores(async (stage) => {
      const store = await stage("app", "dev");
      const lock = await store.lock({ holder: holder("one"), leaseMs: 30_000, timeoutMs: 0 });
      expect(await store.forceUnlock("not-the-id")).toBe(false);
      expect((await store.lockInfo())?.id).toBe(lock.info.id);
      expect(await store.forceUnlock(lock.info.id)).toBe(true);
      expect(await store.lockInfo()).toBeUndefined();
      await expect(lock.heartbeat()).rejects.toBeInstanceOf(LockLostError);
    }));

    it("gives the lock to exactly one of 8 contenders, 50 rounds in a row", { timeout: 120_000 }, withStores(async (stage) => {
      const contenders = await Promise.all(Array.from({ length: 8 }, () => stage("app", "race")));
      for (let round = 0; round < 50; round++) {
        const results = await Promise.allSettled(contenders.map((s, i) => s.lock({ holder: holder(`c${i}`), leaseMs: 30_000, timeoutMs: 0 })));
        const won = results.filter((r): r is PromiseFulfilledResult<StageLock> => r.status === "fulfilled");
        expect(won, `round ${round}`).toHaveLength(1);
        for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(StageLockedError);
        await won[0]!.value.release();
      }
    }));
  });
}
