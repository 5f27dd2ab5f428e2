/**
 * `alchemy.test` end to end: fixture test files (test-scope-fixtures/) run by
 * real vitest processes in temp projects, writing real files through
 * `alchemy/fs`, so that whatever a test scope leaks is visible on disk. The
 * vitest runs start together in beforeAll; each test checks one behaviour.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeProject } from "../cli/cli.test-fixture.js";
import { SQLiteStateStore } from "../state/sqlite/sqlite-state-store.js";
import { errorText, filesUnder, loggedStages, makeTestProject, runVitest, testResult, type VitestRun } from "./test-scope.test-fixture.js";

const CLEAN = ["passes", "fails-an-assertion", "times-out", "runs-concurrently", "factory", "twin"];

describe("alchemy.test", () => {
  const projects: string[] = [];
  let clean: string;
  let leaky: string;
  let crashed: string;
  let envStore: string;
  let cleanRun: Promise<VitestRun>;
  let twinRun: Promise<VitestRun>;
  let leakyRun: Promise<VitestRun>;
  let envStoreRun: Promise<VitestRun>;
  let crashRuns: Promise<{ killed: VitestRun; leftBehind: string[]; after: VitestRun }>;

  beforeAll(() => {
    projects.push(
      (clean = makeTestProject(CLEAN)),
      (leaky = makeTestProject(["leaks"])),
      (crashed = makeTestProject(["crashes"])),
      (envStore = makeTestProject(["passes"])),
    );
    // The same file in a second process at once: twin.test.ts waits for its twin.
    cleanRun = runVitest(clean, [], { TWIN: "a" });
    twinRun = runVitest(clean, ["twin.test.ts"], { TWIN: "b" }, "report-b");
    leakyRun = runVitest(leaky, []);
    envStoreRun = runVitest(envStore, [], { ALCHEMY_STATE_STORE: "sqlite:state.sqlite" });
    crashRuns = (async () => {
      const killed = await runVitest(crashed, [], { CRASH: "1" }, "report-killed");
      const leftBehind = [...world(crashed), ...filesUnder(path.join(crashed, ".alchemy")).map((f) => `.alchemy/${f}`)];
      return { killed, leftBehind, after: await runVitest(crashed, []) };
    })();
  });

  afterAll(async () => {
    await Promise.allSettled([cleanRun, twinRun, leakyRun, envStoreRun, crashRuns]);
    projects.forEach(removeProject);
  });

  const world = (project: string) => filesUnder(path.join(project, "world")).filter((f) => f !== "stages.log");

  it("runs a passing test in a stage named after it, and destroys what it created when it returns", async () => {
    const run = await cleanRun;
    expect(testResult(run, "files > are written inside the scope and gone after it")).toMatchObject({ state: "passed", errors: [] });
    expect(loggedStages(clean)).toContain("passes.test.ts/files-are-written-inside-the-scope-and-gone-after-it");
    expect(existsSync(path.join(clean, "world/passes"))).toBe(false);
  });

  it("destroys what a test created when an assertion fails, and vitest reports that assertion", async () => {
    const run = await cleanRun;
    const result = testResult(run, "fails an assertion after creating a file");
    expect(result.state).toBe("failed");
    expect(errorText(result)).toMatch(/^AssertionError: expected 'written' to be 'expected'/);
    expect(result.errors).toHaveLength(1);
    expect(existsSync(path.join(clean, "world/assertion.txt"))).toBe(false);
  });

  it("destroys what a timed-out test created, in either form, before vitest exits", async () => {
    const run = await cleanRun;
    for (const name of ["hangs in form 1", "hangs in the factory form"]) {
      const result = testResult(run, name);
      expect(result.state).toBe("failed");
      expect(errorText(result)).toMatch(/^Error: Test timed out in 2000ms/);
      expect(result.errors).toHaveLength(1);
    }
    expect(existsSync(path.join(clean, "world/hung-1.txt"))).toBe(false);
    expect(existsSync(path.join(clean, "world/hung-2.txt"))).toBe(false);
    expect(loggedStages(clean)).toEqual(expect.arrayContaining(["times-out.test.ts/hangs-in-form-1", "times-out.test.ts/hangs-in-the-factory-form"]));
    expect(filesUnder(path.join(clean, ".alchemy/times-out.test.ts"))).toEqual([]);
  });

  it("keeps concurrent tests apart: eight live scopes create the same resource id, each in its own stage", async () => {
    const run = await cleanRun;
    for (let i = 0; i < 8; i++) {
      expect(testResult(run, `together > ${i < 4 ? "form 1" : "factory form"} creates same-id ${i}`)).toMatchObject({ state: "passed", errors: [] });
    }
    const stages = loggedStages(clean).filter((s) => s.startsWith("runs-concurrently.test.ts/"));
    expect(new Set(stages).size).toBe(8);
    // Form 1 cannot tell which concurrent test calls it: its stages are "test", "test-2", ...
    expect(stages.filter((s) => /\/test(-\d)?$/.test(s))).toHaveLength(4);
    for (let i = 4; i < 8; i++) expect(stages).toContain(`runs-concurrently.test.ts/together-factory-form-creates-same-id-${i}`);
    expect(world(clean).filter((f) => f.startsWith("concurrent-"))).toEqual([]);
  });

  it("keeps two vitest processes running the same file apart: the second takes the next stage", async () => {
    const [a, b] = await Promise.all([cleanRun, twinRun]);
    expect(testResult(a, "runs beside its twin")).toMatchObject({ state: "passed", errors: [] });
    expect(testResult(b, "runs beside its twin")).toMatchObject({ state: "passed", errors: [] });
    const stages = loggedStages(clean).filter((s) => s.startsWith("twin.test.ts/")).sort();
    expect(stages).toEqual(["twin.test.ts/runs-beside-its-twin", "twin.test.ts/runs-beside-its-twin-2"]);
    expect(world(clean).filter((f) => f.startsWith("twin-"))).toEqual([]);
  });

  it("defines vitest tests with const test = alchemy.test(import.meta), honouring skip and an explicit stage", async () => {
    const run = await cleanRun;
    expect(testResult(run, "Factory Form > names the stage after the test")).toMatchObject({ state: "passed", errors: [] });
    expect(testResult(run, "Factory Form > is skipped").state).toBe("skipped");
    expect(testResult(run, "uses the stage it is given")).toMatchObject({ state: "passed", errors: [] });
    expect(loggedStages(clean)).toEqual(
      expect.arrayContaining(["factory.test.ts/factory-form-names-the-stage-after-the-test", "factory.test.ts/chosen-stage"]),
    );
    expect(existsSync(path.join(clean, "world/factory.txt"))).toBe(false);
    expect(existsSync(path.join(clean, "world/chosen.txt"))).toBe(false);
  });

  it("leaves nothing in the world and no .alchemy directory after a run whose clean-ups all succeeded", async () => {
    const [a, b] = await Promise.all([cleanRun, twinRun]);
    expect(a.tests.size).toBe(16);
    expect(b.code).toBe(0);
    expect(world(clean)).toEqual([]);
    expect(existsSync(path.join(clean, ".alchemy"))).toBe(false);
  });

  it("keeps its state where $ALCHEMY_STATE_STORE says when it is set, as alchemy(...) does", async () => {
    const run = await envStoreRun;
    expect(testResult(run, "files > are written inside the scope and gone after it")).toMatchObject({ state: "passed", errors: [] });
    expect(existsSync(path.join(envStore, ".alchemy"))).toBe(false);
    expect(existsSync(path.join(envStore, "state.sqlite"))).toBe(true);
    const store = new SQLiteStateStore({ chain: ["passes.test.ts"] }, { filename: path.join(envStore, "state.sqlite") });
    try {
      await store.init();
      expect(await store.listScopes()).toEqual([]);
    } finally {
      await store.deinit();
    }
  });

  it("fails a test whose resource could not be destroyed, naming its fqn, the cause and the way out", async () => {
    const run = await leakyRun;
    const leaked = testResult(run, "passes but leaves a sticky resource");
    expect(leaked.state).toBe("failed");
    const message = errorText(leaked);
    expect(message).toMatch(/^TestCleanupError: /);
    expect(message).toContain("leaks.test.ts/passes-but-leaves-a-sticky-resource/sticky: the sticky resource refuses to go");
    expect(message).toContain("run leaks.test.ts again");
    expect(message).not.toContain("plain");
    // What could be destroyed was; what could not is still recorded.
    expect(existsSync(path.join(leaky, "world/leaks-plain.txt"))).toBe(false);
    expect(filesUnder(path.join(leaky, ".alchemy/leaks.test.ts/passes-but-leaves-a-sticky-resource"))).toContain("sticky.json");
  });

  it("reports a test's own error when its clean-up failed too, and prints what was left behind", async () => {
    const run = await leakyRun;
    const result = testResult(run, "fails and leaves a sticky resource");
    expect(result.state).toBe("failed");
    expect(errorText(result)).toBe("Error: the test's own failure");
    expect(run.stderr).toContain("leaks.test.ts/fails-and-leaves-a-sticky-resource/sticky-too: the sticky resource refuses to go");
  });

  it("destroys what a killed test process left before the file's first test runs, and says so on stderr", async () => {
    const { killed, leftBehind, after } = await crashRuns;
    expect(killed.code).not.toBe(0);
    const stage = "crashes.test.ts/dies-in-the-middle";
    expect(loggedStages(crashed)[0]).toBe(stage);
    expect(leftBehind).toEqual(expect.arrayContaining(["crash-inner.txt", "crash-top.txt", `.alchemy/${stage}/~lock`]));

    expect(testResult(after, "runs after the crash")).toMatchObject({ state: "passed", errors: [] });
    expect(after.stderr).toContain(
      `alchemy.test: destroyed 2 resource(s) left by a crashed or failed run of crashes.test.ts: ${stage}/nested/inner, ${stage}/top`,
    );
    expect(world(crashed)).toEqual([]);
    expect(existsSync(path.join(crashed, ".alchemy"))).toBe(false);
  });
});
