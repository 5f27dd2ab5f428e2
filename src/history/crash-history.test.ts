import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileSystemStateStore } from "../state/fs/fs-state-store.js";
import type { State } from "../state/state-store.js";
import { tempDir } from "../core/world.test-fixture.js";
import { keepsHistory, listRuns, recordsAt } from "./stage-history.js";

const repo = path.resolve(import.meta.dirname, "../..");
const program = path.join(repo, "src/core/crash-deploy.test-fixture.ts");
const nodeArgs = ["--import", "tsx", "--conditions=source", program];
const N = 300;

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

async function stage<T>(root: string, body: (store: FileSystemStateStore & Required<Pick<FileSystemStateStore, "listHistory">>) => Promise<T>): Promise<T> {
  const store = new FileSystemStateStore({ chain: ["crash", "s"] }, { dir: path.join(root, ".alchemy") });
  await store.init();
  try {
    if (!keepsHistory(store)) throw new Error("unreachable");
    return await body(store);
  } finally {
    await store.deinit();
  }
}

/** Every record of the stage now, nested scope included, in fqn order. */
async function recordsNow(root: string): Promise<State[]> {
  const out: State[] = [];
  for (const chain of [["crash", "s"], ["crash", "s", "nested"]]) {
    const store = new FileSystemStateStore({ chain }, { dir: path.join(root, ".alchemy") });
    await store.init();
    out.push(...Object.values(await store.all()));
    await store.deinit();
  }
  return out.sort((a, b) => (a.fqn < b.fqn ? -1 : 1));
}

describe("the history of a stage whose deploy is killed", () => {
  it("gets no entry for a deploy killed by SIGKILL, keeps the entry before it exact, and the next deploy's entry holds the records as they are", async () => {
    const { dir, remove } = tempDir("alchemy-crash-history-");
    try {
      mkdirSync(path.join(dir, "world"));
      const env = { ...process.env, CI: "", ROOT: dir, N: String(N) };
      const first = spawnSync(process.execPath, nodeArgs, { cwd: repo, env, encoding: "utf8" });
      expect(first.status, first.stderr).toBe(0);
      const before = await recordsNow(dir);
      const [created] = await stage(dir, (store) => listRuns(store));
      expect(created?.resources).toHaveLength(N);

      // A deploy updating every resource, killed once some updates are recorded.
      const child = spawn(process.execPath, nodeArgs, { cwd: repo, env: { ...env, GEN: "2" }, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise((resolve) => child.on("exit", resolve));
      const deadline = Date.now() + 60_000;
      while (lines(path.join(dir, "adoptions.log")).length < 50) {
        if (Date.now() > deadline) throw new Error(`the update made no progress: ${stderr}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill("SIGKILL");
      await exited;
      expect(lines(path.join(dir, "adoptions.log")).length).toBeLessThan(N);

      // Its records left "updating" (or updated) exist, with no entry describing them.
      const changedByKilledRun = (await recordsNow(dir)).filter((r) => r.status !== "created" || (r.props as { gen?: string }).gen === "2");
      expect(changedByKilledRun.length).toBeGreaterThan(0);
      await stage(dir, async (store) => {
        expect((await listRuns(store)).map((e) => e.run)).toEqual([created!.run]);
        expect(await recordsAt(store, created!.run)).toEqual(before);
      });

      const rerun = spawnSync(process.execPath, nodeArgs, { cwd: repo, env: { ...env, GEN: "2" }, encoding: "utf8" });
      expect(rerun.status, rerun.stderr).toBe(0);
      const after = await recordsNow(dir);
      await stage(dir, async (store) => {
        const [updated, first] = await listRuns(store);
        expect(first!.run).toBe(created!.run);
        // Every resource differs from the first entry, those the killed run updated too.
        expect(updated!.resources).toHaveLength(N);
        expect(await recordsAt(store, updated!.run)).toEqual(after);
        expect(await recordsAt(store, created!.run)).toEqual(before);
      });
    } finally {
      remove();
    }
  }, 120_000);
});
