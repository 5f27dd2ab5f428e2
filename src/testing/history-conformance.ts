/**
 * The part of the state store conformance suite about a stage's history
 * (`appendHistory`, `listHistory`, `getHistorySnapshot`, `deleteHistory`):
 * an optional capability, so each case skips on a store without it. Fencing
 * after a takeover is in `stage-lock-conformance.ts`, beside stage metadata's.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { StateStoreError } from "../core/errors.js";
import type { HistoryItem, StateStore } from "../state/state-store.js";
import type { Run, Stores } from "./state-store-conformance.js";

type HistoryStore = StateStore & Required<Pick<StateStore, "appendHistory" | "listHistory" | "getHistorySnapshot" | "deleteHistory">>;

const APP = ["app", "dev"];

function item(run: string, entry: Record<string, unknown> = { command: "deploy", run }, snapshot = new Uint8Array([run.length, 0, 255])): HistoryItem {
  return { run, entry, snapshot };
}

/** Registers the history cases of the suite. */
export function describeHistory(run: Run): void {
  describe("stage history, where the store offers it", () => {
    const historyStore = async (open: Stores["open"], skip: () => void, chain = APP): Promise<HistoryStore> => {
      const store = await open(chain);
      if (!store.appendHistory || !store.listHistory || !store.getHistorySnapshot || !store.deleteHistory) {
        skip(); // an optional capability
        throw new Error("unreachable: skip() throws");
      }
      return store as HistoryStore;
    };
    const runs = async (store: HistoryStore, limit?: number) => (await store.listHistory(limit)).map((e) => e.run);

    it("is empty before any append", run(async ({ open }, skip) => {
      const store = await historyStore(open, skip);
      expect(await store.listHistory()).toEqual([]);
      expect(await store.getHistorySnapshot("20260101T000000000Z-0000")).toBeUndefined();
    }));

    it("lists entries newest first by run id, whatever the order they were appended in, and cuts the list at limit", run(async ({ open }, skip) => {
      const store = await historyStore(open, skip);
      for (const id of ["r-0002", "r-0001", "r-0010", "r-0003"]) await store.appendHistory(item(id));
      expect(await runs(store)).toEqual(["r-0010", "r-0003", "r-0002", "r-0001"]);
      expect(await runs(store, 2)).toEqual(["r-0010", "r-0003"]);
      expect(await runs(store, 0)).toEqual([]);
      expect((await store.listHistory(1))[0]).toEqual({ run: "r-0010", entry: { command: "deploy", run: "r-0010" } });
    }));

    it("round-trips entries and snapshots exactly: unicode, nesting, empty and large snapshots", run(async ({ open }, skip) => {
      const store = await historyStore(open, skip);
      const entry = { who: "ädä@höst", changes: [{ fqn: "app/dev/数据", paths: [{ path: "a.b[0]", before: null, after: "[secret]" }] }], n: 1.5 };
      const large = new Uint8Array(randomBytes(600_000));
      await store.appendHistory(item("r-1", entry, large));
      await store.appendHistory(item("r-2", {}, new Uint8Array(0)));
      expect((await store.listHistory()).find((e) => e.run === "r-1")?.entry).toEqual(entry);
      expect(Buffer.from((await store.getHistorySnapshot("r-1"))!).equals(Buffer.from(large))).toBe(true);
      expect((await store.getHistorySnapshot("r-2"))?.length).toBe(0);
    }));

    it("an append with the run id of an entry replaces it", run(async ({ open }, skip) => {
      const store = await historyStore(open, skip);
      await store.appendHistory(item("r-1", { v: 1 }, new Uint8Array([1])));
      await store.appendHistory(item("r-1", { v: 2 }, new Uint8Array([2, 2])));
      expect(await store.listHistory()).toEqual([{ run: "r-1", entry: { v: 2 } }]);
      expect([...(await store.getHistorySnapshot("r-1"))!]).toEqual([2, 2]);
    }));

    it("deleteHistory removes the entries named, oldest first or not, and ignores those that do not exist", run(async ({ open }, skip) => {
      const store = await historyStore(open, skip);
      for (const id of ["r-1", "r-2", "r-3", "r-4"]) await store.appendHistory(item(id));
      await store.deleteHistory(["r-1", "r-3", "r-9"]);
      await store.deleteHistory([]);
      expect(await runs(store)).toEqual(["r-4", "r-2"]);
      expect(await store.getHistorySnapshot("r-1")).toBeUndefined();
    }));

    it("persists across a reopen, and each stage has its own history", run(async ({ open, harness }, skip) => {
      const store = await historyStore(open, skip);
      const prod = await historyStore(open, skip, ["app", "prod"]);
      await store.appendHistory(item("r-1"));
      await prod.appendHistory(item("r-2"));
      const again = (await open(APP, harness.reopen?.() ?? harness.factory)) as HistoryStore;
      expect(await runs(again)).toEqual(["r-1"]);
      expect(await runs(prod)).toEqual(["r-2"]);
    }));

    it("is not a record: not listed, counted or returned by all, and a stage holding only history is not listed", run(async ({ open }, skip) => {
      const store = await historyStore(open, skip);
      await store.appendHistory(item("r-1"));
      expect(await store.list()).toEqual([]);
      expect(await store.count()).toBe(0);
      expect(await store.all()).toEqual({});
      expect(await store.listScopes()).toEqual([]);
      expect(await (await open(["app"])).listScopes()).toEqual([]);
    }));

    it("refuses invalid run ids and entries with StateStoreError, writing nothing", run(async ({ open }, skip) => {
      const store = await historyStore(open, skip);
      for (const bad of ["", "../x", "a/b", "-a", "a b", "x".repeat(81)]) {
        await expect(store.appendHistory(item(bad)), JSON.stringify(bad)).rejects.toBeInstanceOf(StateStoreError);
        await expect(store.getHistorySnapshot(bad), JSON.stringify(bad)).rejects.toBeInstanceOf(StateStoreError);
      }
      await expect(store.appendHistory(item("r-1", { when: new Date() } as never))).rejects.toBeInstanceOf(StateStoreError);
      expect(await store.listHistory()).toEqual([]);
    }));

    it("belongs to the stage scope's store: another scope's store rejects with StateStoreError", run(async ({ open }, skip) => {
      await historyStore(open, skip);
      const nested = await open([...APP, "backend"]);
      await expect(nested.appendHistory!(item("r-1"))).rejects.toBeInstanceOf(StateStoreError);
      await expect(nested.listHistory!()).rejects.toBeInstanceOf(StateStoreError);
    }));
  });
}
