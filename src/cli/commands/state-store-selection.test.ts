import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runAlchemy } from "../cli.test-fixture.js";
import { project, removeProjectsAfterEach, world } from "../note-project.test-fixture.js";

removeProjectsAfterEach();

const BODY = `await Note("a", { text: "alpha" });`;

async function stageNames(dir: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<string[]> {
  const result = await runAlchemy(["stages", "--app", "shop", "--json", ...args], dir, env);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { stage: string }[]).map((s) => s.stage);
}

describe("choosing the state store from the command line", () => {
  it("keeps state in the store ALCHEMY_STATE_STORE names when the program sets none, for deploy, stages, state list and destroy", async () => {
    const dir = project(BODY);
    const env = { ALCHEMY_STATE_STORE: "sqlite:state/alchemy.sqlite", CI: "true" };
    const deploy = await runAlchemy(["deploy", "--stage", "pr-1", "-q"], dir, env);
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
    expect(deploy.stderr).not.toContain("lost when the job ends");
    expect(existsSync(path.join(dir, "state/alchemy.sqlite"))).toBe(true);
    expect(existsSync(path.join(dir, ".alchemy"))).toBe(false);
    expect(await stageNames(dir, env)).toEqual(["pr-1"]);
    const list = await runAlchemy(["state", "list", "--app", "shop", "--stage", "pr-1"], dir, env);
    expect(list.stdout).toMatch(/^shop\/pr-1\/a +test::Note +created\n$/);
    expect((await runAlchemy(["destroy", "--stage", "pr-1", "--force", "-q"], dir, env)).code).toBe(0);
    expect(world(dir)).toEqual([]);
    expect(await stageNames(dir, env)).toEqual([]);
  });

  it("takes --state over ALCHEMY_STATE_STORE", async () => {
    const dir = project(BODY);
    const env = { ALCHEMY_STATE_STORE: "sqlite:env.sqlite" };
    expect((await runAlchemy(["deploy", "--stage", "dev", "-q", "--state", "sqlite:flag.sqlite"], dir, env)).code).toBe(0);
    expect(existsSync(path.join(dir, "env.sqlite"))).toBe(false);
    expect(await stageNames(dir, env, "--state", "sqlite:flag.sqlite")).toEqual(["dev"]);
    expect(await stageNames(dir, env)).toEqual([]);
  });

  it("stops before anything runs, a usage error (exit 2), when --state contradicts the store the program sets", async () => {
    const dir = project(BODY, `{ stateStore: (scope) => new FileSystemStateStore(scope, { dir: "pinned" }) }`);
    const run = path.join(dir, "alchemy.run.ts");
    writeFileSync(run, `import { FileSystemStateStore } from "alchemy/state";\n${readFileSync(run, "utf8")}`);
    const result = await runAlchemy(["deploy", "--stage", "dev", "-q", "--state", "sqlite:flag.sqlite"], dir);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`--state sqlite:${path.join(dir, "flag.sqlite")} contradicts stateStore: (a store factory) set by application "shop" in the program`);
    expect(world(dir)).toEqual([]);
  });

  it("names $ALCHEMY_STATE_STORE when it is not a store URL, and changes nothing", async () => {
    const dir = project(BODY);
    const env = { ALCHEMY_STATE_STORE: "redis://cache:6379" };
    const deploy = await runAlchemy(["deploy", "--stage", "dev", "-q"], dir, env);
    expect(deploy.code).toBe(1);
    expect(deploy.stdout).toContain(`$ALCHEMY_STATE_STORE of application "shop" is not a store URL: Unknown state store URL "redis://cache:6379"`);
    expect(world(dir)).toEqual([]);
    const stages = await runAlchemy(["stages", "--app", "shop"], dir, env);
    expect(stages.code).toBe(2);
    expect(stages.stderr).toContain(`$ALCHEMY_STATE_STORE (redis://cache:6379): Unknown state store URL`);
  });
});
