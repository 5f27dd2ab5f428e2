import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runAlchemy, startAlchemy, type CliResult } from "../cli.test-fixture.js";
import { project, removeProjectsAfterEach, world } from "../note-project.test-fixture.js";

removeProjectsAfterEach();

const SLOW = `for (const id of ["one", "two", "three"]) await Note(id, { text: id, slowMs: 700 });`;

/** Starts a deploy and resolves once its first handler has started. */
function startDeploy(dir: string, args: string[] = ["deploy", "--stage", "dev"]) {
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const run = startAlchemy(args, dir, {}, (text) => {
    if (text.includes("started")) started();
  });
  return { ...run, running };
}

const calls = (dir: string, pid: number) =>
  existsSync(path.join(dir, "calls.log")) ? readFileSync(path.join(dir, "calls.log"), "utf8").split("\n").filter((l) => l.startsWith(`${pid} `)) : [];

describe("stage locking from the command line", () => {
  it("fails a second deploy of a locked stage at once, while the holder still runs, naming the holder; another stage proceeds", async () => {
    // The first deploy holds the stage until the test lets it go: whatever the machine's load, the second meets the lock.
    const dir = project(`await Note("one", { text: "one", until: "go" });`);
    const first = startDeploy(dir);
    await first.running;
    const second = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(first.child.exitCode, "the holder is still running: the second did not wait for it").toBeNull();
    writeFileSync(path.join(dir, "go"), "");
    expect(second.code).toBe(1);
    expect(second.stdout).toContain(`State for stage "dev" is locked by another process: ${os.userInfo().username}@${os.hostname()} pid ${first.child.pid} (alchemy deploy --stage dev), lock id `);
    expect(second.stdout).toMatch(/taken \d+s ago, last heartbeat \d+s ago \(lease 30s\)/);
    const other = await runAlchemy(["deploy", "--stage", "other"], dir);
    expect(other.code).toBe(0);
    expect((await first.done).code).toBe(0);
  });

  it("waits up to --lock-timeout for the holder to finish, then deploys", async () => {
    const dir = project(SLOW);
    const first = startDeploy(dir);
    await first.running;
    const second = await runAlchemy(["deploy", "--stage", "dev", "--lock-timeout", "20s"], dir);
    expect((await first.done).code).toBe(0);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^No changes: 3 unchanged/m);
  });

  it("takes over at once from a holder that was killed, saying so", async () => {
    const dir = project(SLOW);
    const first = startDeploy(dir);
    await first.running;
    first.child.kill("SIGKILL");
    await first.done;
    const started = Date.now();
    const next = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(next.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(next.stdout + next.stderr).toContain(`Took over a stale lock on stage "dev" from ${os.userInfo().username}@${os.hostname()} pid ${first.child.pid}`);
    expect(world(dir)).toEqual(["one", "three", "two"]);
  });

  it("fences off a holder that lost its lease: its next write is refused, it calls no provider again and exits 1", async () => {
    const dir = project(SLOW, "{ lockLeaseMs: 800 }");
    const paused = startDeploy(dir);
    await paused.running;
    paused.child.kill("SIGSTOP");
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // the lease runs out
    let tookOver!: () => void;
    const takenOver = new Promise<void>((resolve) => (tookOver = resolve));
    const next = startAlchemy(["deploy", "--stage", "dev"], dir, {}, (text) => {
      if (text.includes("Took over a stale lock")) tookOver();
    });
    await takenOver;
    paused.child.kill("SIGCONT");
    const [stale, fresh]: CliResult[] = await Promise.all([paused.done, next.done]);
    expect(fresh.code).toBe(0);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain(`Lost the lock`);
    // The paused run had started "one" before it was paused; it started nothing after.
    expect(calls(dir, paused.child.pid!)).toEqual([`${paused.child.pid} create one`]);
    expect(world(dir)).toEqual(["one", "three", "two"]);
  });
});
