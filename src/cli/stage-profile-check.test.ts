import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import alchemy, { Resource } from "alchemy";
import { FileSystemStateStore } from "../state/fs/fs-state-store.js";
import { captureIO } from "./io.test-fixture.js";
import { runCli } from "./program.js";

const Thing = Resource("cli-profiles::Thing", async function (_id: string, _props: { n: number }) {
  if (this.phase === "delete") return this.destroy();
  return {};
});

let dir = "";
let elsewhere = "";
const cwd = process.cwd();
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-stage-profiles-"));
  elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-stage-profiles-elsewhere-"));
});
afterEach(() => {
  process.chdir(cwd); // `-C` changes the working directory of this process
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(elsewhere, { recursive: true, force: true });
});

/** A deploy of stage `stage` whose program maps prod to profile prod; the stage's store records that. */
async function deploy(stage: string, profile: string, mapping: Record<string, string[]> | null = { prod: ["prod"] }): Promise<void> {
  const app = await alchemy("shop", { stage, profile, stageProfileMapping: mapping ?? undefined, rootDir: dir, quiet: true });
  await Thing("web", { n: 1 });
  await app.finalize();
}

/** `alchemy ...argv` in `cwd` (default: another directory than the project), against the project's state. */
async function cli(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const io = captureIO(options.cwd ?? elsewhere, { USER: "ada", ...options.env });
  const code = await runCli([...argv, "--state", path.join(dir, ".alchemy")], io);
  return { code, out: io.out(), err: io.err() };
}

const refusal = () =>
  `error: Profile "ci" may not be used on stage "prod": stageProfileMapping (from the options of application "shop", ` +
  `as the stage's last deploy recorded it in ${path.join(dir, ".alchemy")}) key "prod" allows only profile "prod". Nothing was read or changed. ` +
  `Run with --profile prod (or ALCHEMY_PROFILE=prod). To change which profiles may use the stage, deploy the new mapping with a profile the recorded one allows: that deploy records it.\n`;

async function prodRecords(): Promise<string[]> {
  const list = await cli(["state", "list", "--stage", "prod", "--json", "--profile", "prod"]);
  expect(list.code, list.err).toBe(0);
  return (JSON.parse(list.out) as { fqn: string }[]).map((e) => e.fqn);
}

describe("state commands check the stage's recorded stageProfileMapping first, from any directory", () => {
  it("state rm takes --profile (else ALCHEMY_PROFILE, else default) and forgets nothing of a stage the profile may not use", async () => {
    await deploy("prod", "prod");
    expect(await cli(["state", "rm", "shop/prod/web", "--profile", "ci"])).toEqual({ code: 1, out: "", err: refusal() });
    expect(await cli(["state", "rm", "shop/prod/web"], { env: { ALCHEMY_PROFILE: "ci" } })).toEqual({ code: 1, out: "", err: refusal() });
    expect((await cli(["state", "rm", "shop/prod/web"])).err).toContain(`Profile "default" may not be used on stage "prod"`);
    expect(await prodRecords()).toEqual(["shop/prod/web"]);
    expect((await cli(["state", "rm", "shop/prod/web", "-p", "prod"])).code).toBe(0);
    expect(await prodRecords()).toEqual([]);
  });

  it("state list, show and export read nothing of a stage the profile may not use", async () => {
    await deploy("prod", "prod");
    for (const argv of [
      ["state", "list", "--stage", "prod", "--app", "shop"],
      ["state", "show", "shop/prod/web"],
      ["state", "export", "--stage", "prod"],
    ]) {
      expect(await cli([...argv, "--profile", "ci"]), argv.join(" ")).toEqual({ code: 1, out: "", err: refusal() });
    }
  });

  it("state import refuses a profile the export's recorded mapping or the target stage's denies, and writes nothing", async () => {
    await deploy("prod", "prod");
    const file = path.join(elsewhere, "prod.json");
    expect((await cli(["state", "export", "--stage", "prod", "-p", "prod", "-o", file])).code).toBe(0);
    const sqlite = `sqlite:${path.join(elsewhere, "copy.sqlite")}`;
    const fromExport = await cli(["state", "import", file, "--to", sqlite, "-p", "ci"]);
    expect(fromExport.code).toBe(1);
    expect(fromExport.err).toContain(`(from the options of application "shop", as the stage's last deploy recorded it in ${file}) key "prod" allows only profile "prod"`);
    expect(fs.existsSync(path.join(elsewhere, "copy.sqlite"))).toBe(false);

    // The export's own record stripped; the target stage (emptied, but with its metadata) still says no.
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    delete doc.meta.profiles;
    fs.writeFileSync(file, JSON.stringify(doc));
    expect((await cli(["state", "rm", "shop/prod/web", "-p", "prod"])).code).toBe(0);
    expect(await cli(["state", "import", file, "-p", "ci"])).toEqual({ code: 1, out: "", err: refusal() });
    expect(await prodRecords()).toEqual([]);
  });

  it("state migrate, state rekey and unlock refuse a profile the stage's mapping denies", async () => {
    await deploy("prod", "prod");
    const sqlite = `sqlite:${path.join(elsewhere, "copy.sqlite")}`;
    expect(await cli(["state", "migrate", "--stage", "prod", "--to", sqlite, "-p", "ci"])).toEqual({ code: 1, out: "", err: refusal() });
    expect(fs.existsSync(path.join(elsewhere, "copy.sqlite"))).toBe(false);
    const passwords = { ALCHEMY_PASSWORD: "old", ALCHEMY_NEW_PASSWORD: "new" };
    expect(await cli(["state", "rekey", "--stage", "prod", "-p", "ci"], { env: passwords })).toEqual({ code: 1, out: "", err: refusal() });
    expect(await cli(["unlock", "--stage", "prod", "--app", "shop", "-p", "ci"])).toEqual({ code: 1, out: "", err: refusal() });
    expect((await cli(["unlock", "--stage", "prod", "--app", "shop", "-p", "prod"])).code).toBe(0);
  });

  it("stages lists a stage the profile may not use by name only, and stages prune skips it", async () => {
    await deploy("dev", "default");
    await deploy("prod", "prod");
    const json = await cli(["stages", "--json", "-p", "ci"]);
    expect(json.code, json.err).toBe(0);
    expect(JSON.parse(json.out)).toEqual([
      expect.objectContaining({ stage: "dev", resources: 1, denied: null }),
      { stage: "prod", resources: null, unfinished: null, updatedAt: null, lastDeploy: null, lock: null, denied: { profile: "ci", allowed: ["prod"], message: refusal().slice(7, -1) } },
    ]);
    const plain = await cli(["stages", "-p", "ci"]);
    expect(plain.out).toContain(`prod  not shown   profile "ci" may not use it (allowed: "prod"); run with --profile prod\n`);

    for (const stage of ["dev", "prod"]) {
      const store = new FileSystemStateStore({ chain: ["shop", stage] }, { dir: path.join(dir, ".alchemy") });
      await store.init();
      const meta = (await store.getStageMeta())!;
      await store.setStageMeta({ ...meta, lastDeploy: { ...(meta.lastDeploy as object), at: new Date(Date.now() - 3 * 86_400_000).toISOString() } });
      await store.deinit();
    }
    const prune = await cli(["stages", "prune", "--match", "*", "--older-than", "1d", "--dry-run", "-p", "ci"]);
    expect(prune.code, prune.err).toBe(0);
    expect(prune.out).toContain(`1 of 2 stage(s) of shop match "*" with no deploy for 1d:\n  dev  1 resource(s)`);
    expect(prune.out).toContain(`  skipped prod: profile "ci" may not use it (allowed: "prod"); run with --profile prod\n`);
  });

  it("also check alchemy.config.json in the working directory, -C included, for a stage that recorded no mapping", async () => {
    await deploy("prod", "default", null);
    const project = path.join(elsewhere, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, "alchemy.config.json"), JSON.stringify({ stageProfileMapping: { prod: ["prod"] } }));
    const result = await cli(["-C", project, "state", "rm", "shop/prod/web", "-p", "ci"], { cwd: os.tmpdir() });
    expect(result.code).toBe(1);
    expect(result.err).toContain(`Profile "ci" may not be used on stage "prod": stageProfileMapping (from ${path.join(project, "alchemy.config.json")}) key "prod"`);
    expect(await prodRecords()).toEqual(["shop/prod/web"]);
  });
});
