/**
 * A run paused (SIGSTOP) past its stage lock's lease, whose stage another
 * process then took over, must not write once it resumes (SIGCONT): a real
 * child process running the engine on the DynamoDB store.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { childEnv } from "../../child-env.test-fixture.js";
import { tempDir } from "../../core/world.test-fixture.js";
import type { LockHolder } from "../stage-lock.js";
import { DynamoDBStateStore } from "./dynamodb-state-store.js";
import { CHILD_AWS_ENV, freshTable, storeUrl, testOptions, useDynalite } from "./dynamodb.test-fixture.js";

const dynalite = useDynalite();
const repo = path.resolve(import.meta.dirname, "../../..");
const fixture = path.join(import.meta.dirname, "dynamodb-engine-run.test-fixture.ts");
/** The paused run's lease: short, so that the test does not wait long, yet long enough for a loaded machine to renew it in time until the pause. */
const LEASE_MS = 3_000;

describe("a run on the DynamoDB store paused past its lease", () => {
  it("is refused its next state write after another process took its stage over: no handler runs again and it exits 1", { timeout: 60_000 }, async () => {
    const server = await dynalite();
    const table = freshTable();
    const { dir, remove } = tempDir("alchemy-dynamodb-paused-");
    const env = { ...CHILD_AWS_ENV, STORE_URL: storeUrl(server, table), ROOT_DIR: dir, LEASE_MS: String(LEASE_MS), SLOW_MS: "800" };
    const child = spawn(process.execPath, ["--import", path.join(repo, "node_modules/tsx/dist/loader.mjs"), "--conditions", "source", fixture], {
      cwd: repo,
      env: childEnv(env),
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const firstCall = new Promise<void>((resolve) => child.stdout.on("data", (d) => (stdout += d).includes("call create one") && resolve()));
    const taker = new DynamoDBStateStore({ chain: ["app", "dev"] }, testOptions(server, table));
    try {
      await Promise.race([firstCall, exited.then(() => Promise.reject(new Error(`the program exited early: ${stdout}${stderr}`)))]);
      child.kill("SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 1_000)); // the lease runs out
      const holder: LockHolder = { user: "tester", host: os.hostname(), pid: process.pid, command: "taker" };
      const lock = await taker.lock({ holder, leaseMs: 30_000, timeoutMs: 0 });
      expect(lock.tookOverFrom?.holder.pid).toBe(child.pid);
      expect(lock.info.token).toBe(2);
      child.kill("SIGCONT");
      expect(await exited).toBe(1);
      expect(stdout.split("\n").filter((line) => line.startsWith("call "))).toEqual(["call create one"]);
      expect(stdout).toContain("Lost the lock");
      // Refused by the store: its write of the outcome (the lease had run out by the child's own clock), or its heartbeat (the lock item names the taker), whichever came first.
      expect(stderr).toContain(`Lost the lock ${lock.tookOverFrom!.id} on stage "dev" (app/dev): `);
      // The intent recorded before the handler ran, under the lock, stays; the outcome written after the takeover was refused.
      expect(Object.values(await taker.all()).map((state) => [state.id, state.status])).toEqual([["one", "creating"]]);
      expect((await taker.lockInfo())?.id).toBe(lock.info.id);
      await lock.release();
    } finally {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      remove();
    }
  });
});
