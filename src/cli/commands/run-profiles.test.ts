import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeProject, REPO, runAlchemy, type CliResult } from "../cli.test-fixture.js";
import { NOTE, program, project, record, removeProjectsAfterEach, track } from "../note-project.test-fixture.js";
import { childEnv } from "../../child-env.test-fixture.js";

removeProjectsAfterEach();

/** One note whose text a run can change through $TEXT: a run that is let through changes prod's state. */
const BODY = `await Note("a", { text: process.env.TEXT ?? "alpha" });`;
const PROD_ONLY = JSON.stringify({ stageProfileMapping: { prod: ["prod"] } });

/** The project: its program, and beside it an alchemy.config.json mapping prod to profile prod. */
function prodProject(options?: string): string {
  const dir = project(BODY, options);
  writeFileSync(path.join(dir, "alchemy.config.json"), PROD_ONLY);
  return dir;
}

/** A copy of the program in another directory, without the project's alchemy.config.json. */
const programCopy = () => track(makeProject({ "note.ts": NOTE, "alchemy.run.ts": program(BODY) }));

async function deployProd(dir: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const result = await runAlchemy(["deploy", "--stage", "prod", "--profile", "prod", "-q"], dir, env);
  expect(result.code, result.stdout + result.stderr).toBe(0);
}

function expectRefused(result: CliResult, from: string): void {
  expect(result.code, result.stdout + result.stderr).toBe(1);
  expect(result.stdout).toContain(`Profile "ci" may not be used on stage "prod": stageProfileMapping (from ${from}`);
  expect(result.stdout).toContain(`key "prod" allows only profile "prod". Nothing was read or changed. Run with --profile prod`);
}

describe("a deploy with a profile the stage's mapping denies is refused wherever it is run from", () => {
  it("finds alchemy.config.json beside the program when the entry is given from another directory with --state", async () => {
    const dir = prodProject();
    await deployProd(dir);
    const elsewhere = track(makeProject({}));
    const entry = path.join(dir, "alchemy.run.ts");
    const result = await runAlchemy(["deploy", entry, "--stage", "prod", "--profile", "ci", "-q", "--state", path.join(dir, ".alchemy")], elsewhere, {
      TEXT: "changed by ci",
    });
    expectRefused(result, path.join(dir, "alchemy.config.json"));
    expect(record(dir, "prod", "a").props.text).toBe("alpha");
  });

  it("finds alchemy.config.json beside the program, not only in the rootDir the program sets", async () => {
    const elsewhere = track(makeProject({}));
    const dir = prodProject(`{ rootDir: ${JSON.stringify(elsewhere)} }`);
    const result = await runAlchemy(["deploy", "--stage", "prod", "--profile", "ci", "-q"], dir);
    expectRefused(result, path.join(dir, "alchemy.config.json"));
    expect(existsSync(path.join(elsewhere, ".alchemy"))).toBe(false);
  });

  it("checks the mapping the stage's store recorded, for a copy of the program without it run with -C elsewhere and --state", async () => {
    const dir = prodProject();
    await deployProd(dir);
    const copy = programCopy();
    const result = await runAlchemy(["-C", copy, "deploy", "--stage", "prod", "--profile", "ci", "-q", "--state", path.join(dir, ".alchemy")], tmpdir(), {
      TEXT: "changed by ci",
    });
    expectRefused(result, `${path.join(dir, "alchemy.config.json")}, as the stage's last deploy recorded it`);
    expect(result.stdout).toContain("deploy the new mapping with a profile the recorded one allows");
    expect(record(dir, "prod", "a").props.text).toBe("alpha");
  });

  it("checks the mapping recorded in the store ALCHEMY_STATE_STORE names, from another directory", async () => {
    const dir = prodProject();
    const env = { ALCHEMY_STATE_STORE: `sqlite:${path.join(dir, "state.sqlite")}` };
    await deployProd(dir, env);
    const copy = programCopy();
    const result = await runAlchemy(["deploy", "--stage", "prod", "--profile", "ci", "-q"], copy, { ...env, TEXT: "changed by ci" });
    expectRefused(result, `${path.join(dir, "alchemy.config.json")}, as the stage's last deploy recorded it`);
    const list = await runAlchemy(["state", "list", "--app", "shop", "--stage", "prod", "--profile", "prod", "--json"], dir, env);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject([{ fqn: "shop/prod/a", status: "created" }]);
    const show = await runAlchemy(["state", "show", "shop/prod/a", "--app", "shop", "--profile", "prod", "--json"], dir, env);
    expect(JSON.parse(show.stdout).props.text).toBe("alpha");
  });

  it("finds alchemy.config.json beside a program run directly with node from another directory", async () => {
    const dir = prodProject();
    const elsewhere = track(makeProject({}));
    const tsx = path.join(REPO, "node_modules/tsx/dist/loader.mjs");
    const child = spawn(process.execPath, ["--conditions", "source", "--import", tsx, path.join(dir, "alchemy.run.ts")], {
      cwd: elsewhere,
      env: childEnv({ ALCHEMY_STAGE: "prod", ALCHEMY_PROFILE: "ci" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain(`Profile "ci" may not be used on stage "prod": stageProfileMapping (from ${path.join(dir, "alchemy.config.json")})`);
    expect(existsSync(path.join(elsewhere, ".alchemy/shop/prod"))).toBe(false);
  });
});
