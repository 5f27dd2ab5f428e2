import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileSystemStateStore } from "../../state/fs/fs-state-store.js";
import type { StageLock } from "../../state/stage-lock.js";
import { UsageError } from "../exit-codes.js";
import { captureIO } from "../io.test-fixture.js";
import { runCli } from "../program.js";
import { unlock } from "./unlock.js";

let cwd = "";
let held: StageLock | undefined;
beforeEach(() => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-unlock-"));
});
afterEach(async () => {
  await held?.release();
  held = undefined;
  fs.rmSync(cwd, { recursive: true, force: true });
});

const lockStage = async (stage: string, leaseMs = 30_000) => {
  const store = new FileSystemStateStore({ chain: ["shop", stage] }, { dir: path.join(cwd, ".alchemy") });
  held = await store.lock({ holder: { user: "ada", host: os.hostname(), pid: process.pid, command: "alchemy deploy" }, leaseMs, timeoutMs: 0 });
  return { store, lock: held };
};

describe("alchemy unlock", () => {
  it("says a stage that is not locked has nothing to release, and exits 0", async () => {
    await lockStage("other");
    const io = captureIO(cwd);
    expect(await unlock({ state: ".alchemy", stage: "prod" }, io)).toBe(0);
    expect(io.err()).toContain(`Stage "prod" of app "shop" (${path.join(cwd, ".alchemy")}) is not locked. Nothing to do.`);
  });

  it("refuses to release a live lock without its id, showing the holder and the command to use", async () => {
    const { store, lock } = await lockStage("prod");
    const io = captureIO(cwd);
    expect(await unlock({ state: ".alchemy", stage: "prod" }, io)).toBe(1);
    expect(io.err()).toContain(`is locked by ada@${os.hostname()} pid ${process.pid} (alchemy deploy), lock id ${lock.info.id}`);
    expect(io.err()).toContain(`alchemy unlock --stage prod --lock-id ${lock.info.id}`);
    expect((await store.lockInfo())?.id).toBe(lock.info.id);
  });

  it("releases only the lock with the given id", async () => {
    const { store, lock } = await lockStage("prod");
    const wrong = captureIO(cwd);
    expect(await unlock({ state: ".alchemy", stage: "prod", lockId: "not-it" }, wrong)).toBe(1);
    expect(wrong.err()).toContain("No lock with id not-it");
    expect((await store.lockInfo())?.id).toBe(lock.info.id);
    const right = captureIO(cwd);
    expect(await unlock({ state: ".alchemy", stage: "prod", lockId: lock.info.id }, right)).toBe(0);
    expect(right.out()).toContain(`Released lock ${lock.info.id} on stage "prod" of app "shop"`);
    expect(await store.lockInfo()).toBeUndefined();
  });

  it("releases a stale lock without an id", async () => {
    const { store } = await lockStage("prod", 50);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await unlock({ state: ".alchemy", stage: "prod" }, captureIO(cwd))).toBe(0);
    expect(await store.lockInfo()).toBeUndefined();
  });

  it("rejects a stage or app that is not a valid name as a usage error", async () => {
    await expect(unlock({ state: ".alchemy", stage: "../prod" }, captureIO(cwd))).rejects.toThrow(UsageError);
    await expect(unlock({ state: ".alchemy", app: "a/b", stage: "prod" }, captureIO(cwd))).rejects.toThrow(/application "a\/b" \(from --app\)/);
  });
});

describe("alchemy state rm", () => {
  it("refuses to edit a stage another run has locked, naming the holder", async () => {
    const { lock } = await lockStage("prod");
    const io = captureIO(cwd);
    expect(await runCli(["state", "rm", "shop/prod/db"], io)).toBe(1);
    expect(io.err()).toContain(`State for stage "prod" is locked by another process: ada@${os.hostname()} pid ${process.pid} (alchemy deploy), lock id ${lock.info.id}`);
  });
});
