import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "./world.test-fixture.js";

const repo = path.resolve(import.meta.dirname, "../..");
const program = path.join(import.meta.dirname, "crash-deploy.test-fixture.ts");
const nodeArgs = ["--import", "tsx", "--conditions=source", program];

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

function stateFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.name === "~history") continue; // the stage's history (crash-history.test.ts), not records
    if (entry.isDirectory()) out.push(...stateFiles(full));
    else out.push(full);
  }
  return out;
}

describe("crash safety", () => {
  it("converges after SIGKILL during a 1,000-resource deploy, creating each resource exactly once", async () => {
    const { dir, remove } = tempDir("alchemy-crash-");
    try {
      mkdirSync(path.join(dir, "world"));
      // Not under CI=true: the fixture's state is meant to be local, and its stderr is checked line by line.
      const env = { ...process.env, CI: "", ROOT: dir, N: "1000" };
      const child = spawn(process.execPath, nodeArgs, { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      // Kill once a fair share, but not all, of the resources exist.
      const deadline = Date.now() + 60_000;
      while (lines(path.join(dir, "creations.log")).length < 250) {
        if (Date.now() > deadline) throw new Error(`deploy made no progress: ${stderr}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill("SIGKILL");
      await exited;
      const createdBeforeKill = lines(path.join(dir, "creations.log")).length;
      expect(createdBeforeKill).toBeLessThan(1000);

      // Every record on disk is whole, even right after the kill.
      const stage = path.join(dir, ".alchemy", "crash", "s");
      for (const file of stateFiles(stage).filter((f) => f.endsWith(".json"))) {
        expect(() => JSON.parse(readFileSync(file, "utf8")), file).not.toThrow();
      }

      const rerun = spawnSync(process.execPath, nodeArgs, { cwd: repo, env, encoding: "utf8" });
      // The killed run's stage lock is taken over at once (its pid is gone), and said so.
      expect(rerun.stderr).toMatch(/^! Took over a stale lock on stage "s" from \S+@\S+ pid \d+ \(.*\) \(lock id [0-9a-f-]+, no heartbeat for \d+s\)\.\n$/);
      expect(rerun.status).toBe(0);
      expect(rerun.stdout).toContain("DONE");
      // Interrupted creates are reported by fqn, not silently forgotten.
      expect(rerun.stdout).toMatch(/NOTE crash\/s\/(nested\/inner|top)-\d+: resuming: the record was left "creating"/);

      // A marker is created at most once (O_EXCL); a retried create adopts the marker an
      // interrupted one left. The kill can fall between creating a marker and logging it.
      const creations = lines(path.join(dir, "creations.log"));
      const adoptions = lines(path.join(dir, "adoptions.log"));
      expect(new Set(creations).size).toBe(creations.length);
      expect(new Set([...creations, ...adoptions]).size).toBe(1000);
      expect(creations.length).toBeGreaterThanOrEqual(1000 - adoptions.length);
      expect(readdirSync(path.join(dir, "world"))).toHaveLength(1000);
      // Record files; the stage's metadata file (~stage.json) is not a record.
      const records = stateFiles(stage).filter((f) => f.endsWith(".json") && !path.basename(f).startsWith("~"));
      expect(records).toHaveLength(1000);
      for (const file of records) {
        const record = JSON.parse(readFileSync(file, "utf8"));
        expect(record.status, file).toBe("created");
        expect(statSync(file).mode & 0o777).toBe(0o600);
      }
      // Nothing but records (and the engine's own journal) is left behind.
      expect(stateFiles(stage).filter((f) => !f.endsWith(".json") && !path.basename(f).startsWith("~"))).toEqual([]);
    } finally {
      remove();
    }
  });
});
