import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeProject, runAlchemy, type CliResult } from "./cli.test-fixture.js";
import { NOTE, project, removeProjectsAfterEach, track, world } from "./note-project.test-fixture.js";

removeProjectsAfterEach();

const BODY = `await Note("a", { text: "alpha" });\nawait alchemy.run("backend", async () => { await Note("b", { text: "beta" }); });`;

/** The warning about `dir`, as the filesystem store words it. */
const warningAbout = (dir: string, mode: string) =>
  `The state directory ${dir} can be written by every user of this machine (mode ${mode}): ` +
  `any of them could change or plant records there. Run \`chmod 700 ${dir}\` to keep it yours.`;

/** How many times `text` occurs in `output`. */
const occurrences = (output: string, text: string) => output.split(text).length - 1;

function ok(result: CliResult, what: string): CliResult {
  expect(result.code, `${what}: ${result.stdout}${result.stderr}`).toBe(0);
  return result;
}

/** A project whose `.alchemy` exists with `mode` before anything runs. */
function projectWithStateDir(mode: number): { dir: string; root: string } {
  const dir = project(BODY);
  const root = path.join(dir, ".alchemy");
  fs.mkdirSync(root);
  fs.chmodSync(root, mode);
  return { dir, root };
}

describe("a .alchemy every user of the machine may write to", () => {
  it("makes a deploy warn once, naming the directory and `chmod 700`, and the deploy still succeeds", async () => {
    const { dir, root } = projectWithStateDir(0o777);
    const deploy = ok(await runAlchemy(["deploy", "--stage", "dev"], dir), "deploy");
    expect(occurrences(deploy.stderr, `! ${warningAbout(root, "0777")}\n`)).toBe(1);
    expect(deploy.stdout).toContain("created 2");
    expect(world(dir)).toEqual(["a", "b"]);
    expect(fs.statSync(root).mode & 0o7777).toBe(0o777); // warned about, not changed
  });

  it("puts the warning in the warnings of deploy --json, and nowhere else", async () => {
    const { dir, root } = projectWithStateDir(0o777);
    const deploy = ok(await runAlchemy(["deploy", "--stage", "dev", "--json"], dir), "deploy --json");
    const document = JSON.parse(deploy.stdout) as { ok: boolean; warnings: string[] };
    expect(document.ok).toBe(true);
    expect(document.warnings).toEqual([warningAbout(root, "0777")]);
    expect(deploy.stderr).not.toContain("can be written by every user");
  });

  it("warns once per run when two applications of one program share it", async () => {
    const dir = track(
      makeProject({
        "note.ts": NOTE,
        "alchemy.run.ts": `
import { alchemy, Note } from "./note.ts";
const shop = await alchemy("shop");
await Note("a", { text: "alpha" });
await shop.finalize();
const blog = await alchemy("blog");
await Note("p", { text: "post" });
await blog.finalize();
`,
      }),
    );
    const root = path.join(dir, ".alchemy");
    fs.mkdirSync(root);
    fs.chmodSync(root, 0o777);
    const deploy = ok(await runAlchemy(["deploy", "--stage", "dev"], dir), "deploy");
    expect(occurrences(deploy.stderr, warningAbout(root, "0777"))).toBe(1);
    expect(world(dir)).toEqual(["a", "p"]);
  });

  it("makes the state commands print the warning to stderr once, their output unchanged", async () => {
    const { dir, root } = projectWithStateDir(0o700);
    ok(await runAlchemy(["deploy", "--stage", "dev", "-q"], dir), "deploy");
    fs.chmodSync(root, 0o777);
    const warning = `! ${warningAbout(root, "0777")}\n`;
    const list = ok(await runAlchemy(["state", "list", "--app", "shop", "--stage", "dev", "--json"], dir), "state list");
    expect(occurrences(list.stderr, warning)).toBe(1);
    expect((JSON.parse(list.stdout) as { fqn: string }[]).map((e) => e.fqn)).toEqual(["shop/dev/a", "shop/dev/backend/b"]);
    const stages = ok(await runAlchemy(["stages", "--app", "shop"], dir), "stages");
    expect(occurrences(stages.stderr, warning)).toBe(1);
    expect(stages.stdout).toMatch(/^dev +2 resources/);
    const show = ok(await runAlchemy(["state", "show", "shop/dev/backend/b"], dir), "state show");
    expect(occurrences(show.stderr, warning)).toBe(1);
    const rm = ok(await runAlchemy(["state", "rm", "shop/dev/backend/b"], dir), "state rm");
    expect(occurrences(rm.stderr, warning)).toBe(1);
    expect(rm.stdout).toContain("Forgot 1 record");
  });

  it("names each world-writable directory down to the stage, once each, in a deploy and in state list", async () => {
    const { dir, root } = projectWithStateDir(0o700);
    ok(await runAlchemy(["deploy", "--stage", "dev", "-q"], dir), "deploy");
    const stageDir = path.join(root, "shop", "dev");
    fs.chmodSync(root, 0o777);
    fs.chmodSync(stageDir, 0o777);
    const expected = [`! ${warningAbout(root, "0777")}`, `! ${warningAbout(stageDir, "0777")}`];
    const deploy = ok(await runAlchemy(["deploy", "--stage", "dev", "-q"], dir), "deploy");
    expect(deploy.stderr.split("\n").filter((line) => line.startsWith("! "))).toEqual(expected);
    const list = ok(await runAlchemy(["state", "list", "--app", "shop", "--stage", "dev"], dir), "state list");
    expect(list.stderr.split("\n").filter((line) => line.startsWith("! "))).toEqual(expected);
  });
});

describe("a .alchemy only its owner may write to", () => {
  for (const [mode, what] of [
    [0o700, "0700"],
    [0o1777, "world-writable but sticky (01777, like /tmp)"],
  ] as const) {
    it(`gives no warning when it is ${what}: deploy, deploy --json and state list`, async () => {
      const { dir } = projectWithStateDir(mode);
      const deploy = ok(await runAlchemy(["deploy", "--stage", "dev"], dir), "deploy");
      expect(deploy.stderr).not.toContain("! ");
      const json = ok(await runAlchemy(["deploy", "--stage", "dev", "--json"], dir), "deploy --json");
      expect((JSON.parse(json.stdout) as { warnings: string[] }).warnings).toEqual([]);
      const list = ok(await runAlchemy(["state", "list", "--app", "shop", "--stage", "dev"], dir), "state list");
      expect(list.stderr).toBe("");
    });
  }
});
