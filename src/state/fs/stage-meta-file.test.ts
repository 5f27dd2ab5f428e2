import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { LockLostError, type LockRequest } from "../stage-lock.js";
import type { State } from "../state-store.js";
import { FileSystemStateStore } from "./fs-state-store.js";
import { takeOverInAnotherProcess } from "./take-over.test-fixture.js";

const STAGE = ["app", "dev"];
const state = (chain: readonly string[], id: string): State => ({
  status: "created", kind: "test::Thing", id, fqn: [...chain, id].join("/"), seq: 1,
  data: {}, props: { name: id }, output: { ok: true }, deps: [],
});
const request = (command: string, leaseMs = 30_000): LockRequest => ({
  holder: { user: "tester", host: os.hostname(), pid: process.pid, command }, leaseMs, timeoutMs: 0,
});

describe("FileSystemStateStore stage metadata", () => {
  let dir: string;
  const stores: FileSystemStateStore[] = [];
  const open = async (chain: readonly string[] = STAGE) => {
    const store = new FileSystemStateStore({ chain }, { dir });
    stores.push(store);
    await store.init();
    return store;
  };
  const closeAll = async () => {
    for (const store of stores.splice(0)) await store.deinit();
  };
  const stageDir = () => path.join(dir, "app", "dev");
  const metaFile = () => path.join(stageDir(), "~stage.json");
  /** A store that wrote metadata under a 200 ms lease, stalled past it, and lost its lock to another process. */
  const stalledAndTakenOver = async () => {
    const store = await open();
    const lock = await store.lock(request("stalled", 200));
    await store.setStageMeta({ writer: "stalled" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const taken = takeOverInAnotherProcess(`file:${dir}`, "app", "dev");
    expect(taken.tookOverFrom).toBe(lock.info.id);
    return { store, lock, taken };
  };
  const expectLockLost = (refused: unknown, lockId: string, currentId: string) => {
    expect(refused).toBeInstanceOf(LockLostError);
    expect((refused as LockLostError).lockId).toBe(lockId);
    expect((refused as LockLostError).current?.id).toBe(currentId);
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-fs-meta-"));
  });
  afterEach(async () => {
    await closeAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps it in <stage dir>/~stage.json as pretty JSON, mode 0600 whatever the umask, leaving no temp file", async () => {
    for (const umask of [0o277, 0o000]) {
      const previous = process.umask(umask);
      try {
        const meta = { secrets: { salt: "c2FsdA==", verifier: "dg==" }, umask };
        await (await open()).setStageMeta(meta);
        expect(fs.readFileSync(metaFile(), "utf8")).toBe(JSON.stringify(meta, null, 2) + "\n");
        expect(fs.statSync(metaFile()).mode & 0o777).toBe(0o600);
        expect(fs.statSync(stageDir()).mode & 0o777).toBe(0o700);
        expect(fs.readdirSync(stageDir()).filter((name) => name.includes("~tmp-"))).toEqual([]);
      } finally {
        process.umask(previous);
      }
    }
  });

  it("rejects a ~stage.json that is not the JSON of an object with a StateStoreError naming its path, and leaves it as it is", async () => {
    const store = await open();
    fs.mkdirSync(stageDir(), { recursive: true });
    for (const [text, problem] of [['{"secrets": ', /is not valid JSON/], ["", /is empty/], ["[1]", /is an array, not a JSON object/], ["null", /is null/]] as const) {
      fs.writeFileSync(metaFile(), text);
      const error = await store.getStageMeta().then(() => undefined, (e: unknown) => e);
      expect(error, text).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).location).toBe(metaFile());
      expect((error as Error).message).toContain(`The stage metadata at ${metaFile()}`);
      expect((error as Error).message).toMatch(problem);
      expect((error as Error).message).toMatch(/Restore the file from a backup/);
      expect(fs.readFileSync(metaFile(), "utf8")).toBe(text);
    }
  });

  it("never takes ~stage.json for a record or a scope, and lists no stage that holds only metadata", async () => {
    const store = await open();
    await store.setStageMeta({ a: 1 });
    await (await open(["app", "prod"])).set("api", state(["app", "prod"], "api"));
    expect(await store.list()).toEqual([]);
    expect(await store.all()).toEqual({});
    expect(await store.listScopes()).toEqual([]);
    expect(await (await open(["app"])).listScopes()).toEqual(["prod"]);
    expect(await (await open([])).listScopes()).toEqual(["app"]);
    await expect(store.get("~stage")).rejects.toThrow(/Invalid resource id "~stage"/);
  });

  it("keeps the directory of a stage whose records are all gone as long as it holds metadata, and removes one that holds none", async () => {
    for (const withMeta of [true, false]) {
      const store = await open();
      const lock = await store.lock(request("deploy"));
      if (withMeta) await store.setStageMeta({ secrets: { salt: "a" } });
      await store.set("api", state(STAGE, "api"));
      await store.delete("api");
      await closeAll();
      await lock.release();
      expect(fs.existsSync(stageDir()), `with metadata: ${withMeta}`).toBe(withMeta);
      if (withMeta) {
        expect(fs.readdirSync(stageDir()).filter((name) => name !== "~journal")).toEqual(["~stage.json"]);
        expect(await (await open()).getStageMeta()).toEqual({ secrets: { salt: "a" } });
        fs.rmSync(stageDir(), { recursive: true });
      }
    }
  });

  it("deleteStageMeta unlinks ~stage.json and leaves the stage's other files alone", async () => {
    const store = await open();
    await store.set("api", state(STAGE, "api"));
    await store.setStageMeta({ a: 1 });
    await store.deleteStageMeta();
    expect(fs.existsSync(metaFile())).toBe(false);
    expect(await store.getStageMeta()).toBeUndefined();
    await closeAll();
    expect(fs.readdirSync(stageDir()).sort()).toEqual(["api.json", "~journal"]);
  });

  it("removes the directory of a stage whose records and metadata are all deleted when the last store deinits, with or without its lock", async () => {
    for (const locked of [true, false]) {
      const store = await open();
      const lock = locked ? await store.lock(request("destroy")) : undefined;
      await store.setStageMeta({ secrets: { salt: "a" } });
      await store.set("api", state(STAGE, "api"));
      await store.delete("api");
      await store.deleteStageMeta();
      await closeAll();
      await lock?.release();
      expect(fs.existsSync(stageDir()), `locked: ${locked}`).toBe(false);
      expect(await (await open(["app"])).listScopes()).toEqual([]);
      await closeAll();
    }
  });

  it("removes the directory of a stage that only ever held metadata once it is deleted, in a later run", async () => {
    await (await open()).setStageMeta({ secrets: { salt: "a" } });
    await closeAll();
    expect(fs.readdirSync(stageDir())).toEqual(["~stage.json"]); // no record, so no journal file
    await (await open()).deleteStageMeta();
    await closeAll();
    expect(fs.existsSync(stageDir())).toBe(false);
  });

  it("refuses the metadata deletion of this process once another process took its stale lock over, with LockLostError, leaving the file and the directory", { timeout: 60_000 }, async () => {
    const { store, lock, taken } = await stalledAndTakenOver();
    expectLockLost(await store.deleteStageMeta().then(() => undefined, (e: unknown) => e), lock.info.id, taken.id);
    expect(await store.getStageMeta()).toEqual({ writer: "stalled" });
    await closeAll();
    await lock.release(); // not ours any more: leaves the other process's lock
    expect(JSON.parse(fs.readFileSync(metaFile(), "utf8"))).toEqual({ writer: "stalled" });
  });

  it("refuses the metadata write of this process once another process took its stale lock over, with LockLostError, leaving the file as it was", { timeout: 60_000 }, async () => {
    const { store, lock, taken } = await stalledAndTakenOver();
    expectLockLost(await store.setStageMeta({ writer: "stalled, late" }).then(() => undefined, (e: unknown) => e), lock.info.id, taken.id);
    expect(await store.getStageMeta()).toEqual({ writer: "stalled" });
    // The stage stays fenced off for this run: its record writes are refused too.
    await expect(store.set("api", state(STAGE, "api"))).rejects.toBeInstanceOf(LockLostError);
    await lock.release(); // not ours any more: leaves the other process's lock
    expect((await store.lockInfo())?.id).toBe(taken.id);
  });
});
