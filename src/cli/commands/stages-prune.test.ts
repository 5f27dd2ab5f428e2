import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileSystemStateStore } from "../../state/fs/fs-state-store.js";
import { runAlchemy } from "../cli.test-fixture.js";
import { project, removeProjectsAfterEach, world } from "../note-project.test-fixture.js";

removeProjectsAfterEach();

const DAY = 86_400_000;
/** One note per stage (world/note-<stage>), and one more that fails to delete when FAIL_DELETE names the stage. */
const BODY = `
await Note("note-" + app.stage.name, { text: "hello" });
await Undeletable("keep-" + app.stage.name, { stage: app.stage.name });
`;
const UNDELETABLE = `
import { Resource } from "alchemy";
import { FileSystemStateStore } from "alchemy/state";
export const Undeletable = Resource("test::Undeletable", async function (id: string, props: { stage: string }) {
  if (this.phase === "delete" && process.env.FAIL_DELETE === props.stage) throw new Error("the provider refused to delete " + id);
  const [deleting, redeployed] = (process.env.REDEPLOY_WHILE_DELETING ?? "").split(":");
  if (this.phase === "delete" && deleting === props.stage) {
    // Another run deploys that stage meanwhile: its last deploy becomes now.
    const store = new FileSystemStateStore({ chain: ["shop", redeployed] }, { dir: ".alchemy" });
    await store.init();
    const meta = await store.getStageMeta();
    await store.setStageMeta({ ...meta, lastDeploy: { ...meta.lastDeploy, at: new Date().toISOString() } });
    await store.deinit();
  }
  if (this.phase === "delete") return this.destroy();
  return {};
});
`;

/** A project with stages deployed, then their last deploy moved back by `ageDays` each. */
async function stagesAged(ages: Record<string, number>): Promise<string> {
  const dir = project(BODY);
  const run = path.join(dir, "alchemy.run.ts");
  const imports = `import { alchemy, Note } from "./note.ts";`;
  writeFileSync(run, readFileSync(run, "utf8").replace(imports, `${imports}\nimport { Undeletable } from "./undeletable.ts";`));
  writeFileSync(path.join(dir, "undeletable.ts"), UNDELETABLE);
  for (const stage of Object.keys(ages)) {
    const result = await runAlchemy(["deploy", "--stage", stage, "-q"], dir);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  }
  for (const [stage, days] of Object.entries(ages)) await ageStage(dir, stage, days);
  return dir;
}

/** Rewrites the stage's recorded last deploy to `days` ago, as if it had been deployed then. */
async function ageStage(dir: string, stage: string, days: number): Promise<void> {
  const store = new FileSystemStateStore({ chain: ["shop", stage] }, { dir: path.join(dir, ".alchemy") });
  await store.init();
  const meta = (await store.getStageMeta())!;
  await store.setStageMeta({ ...meta, lastDeploy: { ...(meta.lastDeploy as object), at: new Date(Date.now() - days * DAY).toISOString() } });
  await store.deinit();
}

async function stagesOf(dir: string): Promise<{ stage: string; resources: number; lastDeploy: { at: string; by: string } | null }[]> {
  const result = await runAlchemy(["stages", "--json"], dir);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

describe("alchemy stages", () => {
  it("lists each stage with its resource count, last deploy time and last deployer", async () => {
    const dir = project(`await Note("a-" + app.stage.name, { text: "x" });\nawait Note("b-" + app.stage.name, { text: "y" });`);
    const before = Date.now();
    expect((await runAlchemy(["deploy", "--stage", "pr-7", "-q"], dir, { GITHUB_ACTIONS: "true", GITHUB_ACTOR: "octocat" })).code).toBe(0);
    expect((await runAlchemy(["deploy", "--stage", "dev", "-q"], dir)).code).toBe(0);
    const stages = await stagesOf(dir);
    expect(stages.map((s) => [s.stage, s.resources, s.lastDeploy?.by])).toEqual([
      ["dev", 2, expect.stringMatching(/@/)],
      ["pr-7", 2, "octocat (GitHub Actions)"],
    ]);
    for (const s of stages) expect(Date.parse(s.lastDeploy!.at)).toBeGreaterThanOrEqual(before);
    expect(stages[1]).toMatchObject({ lastDeploy: { command: "alchemy deploy --stage pr-7 -q", ok: true }, lock: null });
    const text = await runAlchemy(["stages"], dir);
    expect(text.stdout).toMatch(/^dev {3}2 resources {2}deployed \S+ \(\d+s ago\) by \S+@\S+\npr-7 {2}2 resources {2}deployed \S+ \(\d+s ago\) by octocat \(GitHub Actions\)\n$/);
  });

  it("forgets a destroyed stage entirely: it is no longer listed and leaves no directory", async () => {
    const dir = project(`await Note("a-" + app.stage.name, { text: "x" });`);
    expect((await runAlchemy(["deploy", "--stage", "pr-1", "-q"], dir)).code).toBe(0);
    expect((await runAlchemy(["destroy", "--stage", "pr-1", "--force", "-q"], dir)).code).toBe(0);
    expect(await stagesOf(dir)).toEqual([]);
    expect(world(dir)).toEqual([]);
    const appDir = path.join(dir, ".alchemy/shop");
    expect(existsSync(appDir) ? readdirSync(appDir) : []).toEqual([]);
  });
});

describe("alchemy stages prune", () => {
  it("destroys the matching stages last deployed before the cutoff, one by one, and keeps the rest", async () => {
    const dir = await stagesAged({ "pr-1": 10, "pr-2": 8, "pr-3": 1, "pr-4": 30, dev: 40 });
    const result = await runAlchemy(["stages", "prune", "--match", "pr-*", "--older-than", "7d", "--keep", "pr-4", "-q"], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`2 of 5 stage(s) of shop match "pr-*" with no deploy for 7d (1 more matching deployed since):`);
    expect(result.stdout).toMatch(/ {2}pr-1 {2}2 resource\(s\), deployed 10d ago by \S+/);
    expect(result.stdout).toContain("  skipped pr-4: kept by --keep");
    expect(result.stdout).toContain("Destroying shop/pr-1...\n");
    expect(result.stdout).toContain("✓ deleted shop/pr-2/note-pr-2");
    expect(result.stdout).toContain("Pruned 2 stage(s) of shop, 4 resource(s) deleted: pr-1, pr-2.");
    expect((await stagesOf(dir)).map((s) => s.stage)).toEqual(["dev", "pr-3", "pr-4"]);
    expect(world(dir)).toEqual(["note-dev", "note-pr-3", "note-pr-4"]);
  });

  it("changes nothing under --dry-run, listing what it would destroy", async () => {
    const dir = await stagesAged({ "pr-1": 10, "pr-2": 2 });
    const result = await runAlchemy(["stages", "prune", "--match", "pr-?", "--older-than", "1w", "--dry-run"], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^1 of 2 stage\(s\) of shop match "pr-\?" with no deploy for 1w \(1 more matching deployed since\):\n {2}pr-1 {2}2 resource\(s\), deployed 10d ago by \S+\nDry run: nothing was destroyed.\n$/);
    expect((await stagesOf(dir)).map((s) => s.stage)).toEqual(["pr-1", "pr-2"]);
    expect(world(dir)).toEqual(["note-pr-1", "note-pr-2"]);
  });

  it("skips a stage another live run holds locked, and destroys the others", async () => {
    const dir = await stagesAged({ "pr-1": 10, "pr-2": 10 });
    const store = new FileSystemStateStore({ chain: ["shop", "pr-2"] }, { dir: path.join(dir, ".alchemy") });
    const lock = await store.lock({ holder: { user: "ci", host: "runner", pid: process.pid, command: "alchemy deploy --stage pr-2" }, leaseMs: 60_000, timeoutMs: 0 });
    try {
      const result = await runAlchemy(["stages", "prune", "--match", "pr-*", "--older-than", "7d", "-q"], dir);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("  skipped pr-2: locked by ci@runner pid");
      expect(result.stdout).toContain("Pruned 1 stage(s) of shop, 2 resource(s) deleted: pr-1.");
      expect(world(dir)).toEqual(["note-pr-2"]);
    } finally {
      await lock.release();
    }
  });

  it("goes on after a stage fails to destroy, then exits 1 naming it, its undeleted resources still recorded", async () => {
    const dir = await stagesAged({ "pr-1": 10, "pr-2": 10, "pr-3": 10 });
    const result = await runAlchemy(["stages", "prune", "--match", "pr-*", "--older-than", "7d", "-q"], dir, { FAIL_DELETE: "pr-2" });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("the provider refused to delete keep-pr-2");
    expect(result.stdout).toContain("Pruned 2 stage(s) of shop, 4 resource(s) deleted: pr-1, pr-3.");
    expect(result.stdout).toContain("Failed: pr-2 (errors above)");
    const left = await stagesOf(dir);
    expect(left.map((s) => [s.stage, s.resources])).toEqual([["pr-2", 1]]);
  });

  it("keeps a stage deployed again between the listing and its turn, re-reading its last deploy under its lock", async () => {
    const dir = await stagesAged({ "pr-1": 10, "pr-2": 10 });
    const result = await runAlchemy(["stages", "prune", "--match", "pr-*", "--older-than", "7d", "-q"], dir, { REDEPLOY_WHILE_DELETING: "pr-1:pr-2" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Pruned 1 stage(s) of shop, 2 resource(s) deleted: pr-1.");
    expect(result.stdout).toMatch(/Kept pr-2: deployed again at \S+, after the listing\./);
    expect(world(dir)).toEqual(["note-pr-2"]);
  });

  it("refuses a bad age, glob-less call or stage name with a usage error (exit 2) before touching anything", async () => {
    const dir = await stagesAged({ "pr-1": 10 });
    for (const args of [
      ["--match", "pr-*", "--older-than", "7 days"],
      ["--older-than", "7d"],
      ["--match", "pr-*"],
      ["--match", "pr-*", "--older-than", "7d", "--keep", "pr/1"],
    ]) {
      const result = await runAlchemy(["stages", "prune", ...args], dir);
      expect(result.code, args.join(" ")).toBe(2);
    }
    expect(world(dir)).toEqual(["note-pr-1"]);
  });
});
