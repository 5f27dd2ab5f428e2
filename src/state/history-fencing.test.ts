import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { takeOverInAnotherProcess } from "./fs/take-over.test-fixture.js";
import { FileSystemStateStore } from "./fs/fs-state-store.js";
import { SQLiteStateStore } from "./sqlite/sqlite-state-store.js";
import { LockLostError } from "./stage-lock.js";
import type { StageLocking } from "./stage-lock.js";
import type { StateStore } from "./state-store.js";

/** The stores that fence once per process (one journal, one connection): fenced across processes here, as the conformance suite cannot. */
const STORES: [string, (dir: string) => { store: StateStore & StageLocking; url: string }][] = [
  ["FileSystemStateStore", (dir) => ({ store: new FileSystemStateStore({ chain: ["app", "dev"] }, { dir }), url: `file:${dir}` })],
  ["SQLiteStateStore", (dir) => ({ store: new SQLiteStateStore({ chain: ["app", "dev"] }, { filename: path.join(dir, "state.sqlite") }), url: `sqlite:${path.join(dir, "state.sqlite")}` })],
];

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-history-fence-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(STORES)("%s history after a takeover by another process", (_name, make) => {
  it("refuses the old holder's append and deletion with LockLostError, and writes nothing", async () => {
    const { store, url } = make(dir);
    await store.init?.();
    try {
      const lock = await store.lock({ holder: { user: "tester", host: os.hostname(), pid: process.pid, command: "stalled" }, leaseMs: 1_000, timeoutMs: 0 });
      const item = (run: string) => ({ run, entry: { run }, snapshot: new Uint8Array([1]) });
      await store.appendHistory!(item("r-1"));
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const taken = takeOverInAnotherProcess(url, "app", "dev");
      expect(taken.tookOverFrom).toBe(lock.info.id);
      await expect(store.appendHistory!(item("r-2"))).rejects.toBeInstanceOf(LockLostError);
      await expect(store.deleteHistory!(["r-1"])).rejects.toBeInstanceOf(LockLostError);
      expect((await store.listHistory!()).map((e) => e.run)).toEqual(["r-1"]);
      await lock.release().catch(() => undefined);
    } finally {
      await store.deinit?.();
    }
  });
});
