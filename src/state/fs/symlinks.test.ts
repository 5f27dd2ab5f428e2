/**
 * Symbolic links planted in the state directory: the filesystem store never
 * follows one. Each attack is made by hand on real files, then the real
 * `alchemy` command line runs on it: the command fails (exit 1) naming the
 * link, and what the link points to is exactly as it was (same names, sizes
 * and contents; nothing created in a directory elsewhere).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runAlchemy, type CliResult } from "../../cli/cli.test-fixture.js";
import { project, removeProjectsAfterEach, rewrite, world } from "../../cli/note-project.test-fixture.js";

removeProjectsAfterEach();

const outsides: string[] = [];
afterEach(() => outsides.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A directory outside the project, where links point; removed after the test. */
function outsideDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-outside-"));
  outsides.push(dir);
  return dir;
}

/** Record `a` in the stage and record `b` in nested scope `backend`. */
const body = (a = "alpha", b = "beta") =>
  `await Note("a", { text: "${a}" });\nawait alchemy.run("backend", async () => { await Note("b", { text: "${b}" }); });`;

/** A project deployed once to stage dev: `.alchemy/shop/dev/a.json`, `.alchemy/shop/dev/backend/b.json`. */
async function deployedProject(): Promise<{ dir: string; stageDir: string }> {
  const dir = project(body());
  const first = await runAlchemy(["deploy", "--stage", "dev", "-q"], dir);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  return { dir, stageDir: path.join(dir, ".alchemy/shop/dev") };
}

/** Everything under `dir`, by relative path: a file's size and content, a link's target, "dir" for a directory. */
function snapshot(dir: string): Record<string, string> {
  const found: Record<string, string> = {};
  const walk = (current: string) => {
    for (const name of fs.readdirSync(current).sort()) {
      const full = path.join(current, name);
      const key = path.relative(dir, full);
      const stat = fs.lstatSync(full);
      if (stat.isSymbolicLink()) found[key] = `link -> ${fs.readlinkSync(full)}`;
      else if (stat.isDirectory()) {
        found[key] = "dir";
        walk(full);
      } else found[key] = `${stat.size} bytes: ${fs.readFileSync(full, "utf8")}`;
    }
  };
  walk(dir);
  return found;
}

/** Moves `target` (a file or directory of the state) to `outside` and leaves a link to it in its place. */
function replaceWithLink(target: string, outside: string): string {
  const moved = path.join(outside, path.basename(target));
  fs.renameSync(target, moved);
  fs.symlinkSync(moved, target);
  return moved;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The command failed with exit 1, saying that `link` is a symbolic link alchemy does not follow. */
function expectRefused(result: CliResult, link: string): void {
  const output = result.stdout + result.stderr;
  expect(result.code, output).toBe(1);
  expect(output).toMatch(new RegExp(`${escape(link)}:? (it )?is a symbolic link`));
  expect(output).toMatch(/never follows links/);
}

const handlerCalls = (dir: string) => (fs.existsSync(path.join(dir, "calls.log")) ? fs.readFileSync(path.join(dir, "calls.log"), "utf8") : "");

describe("a ~journal that is a symbolic link to a file elsewhere", () => {
  it("is refused by state list, stages, plan, deploy and destroy, each naming the link, and the file elsewhere keeps its content", async () => {
    const { dir, stageDir } = await deployedProject();
    const victim = path.join(outsideDir(), "victim.txt");
    fs.writeFileSync(victim, "precious data\n");
    const link = path.join(stageDir, "~journal");
    fs.rmSync(link, { force: true });
    fs.symlinkSync(victim, link);
    rewrite(dir, body("changed", "changed"));
    const commands = [
      ["state", "list", "--app", "shop", "--stage", "dev"],
      ["stages", "--app", "shop"],
      ["plan", "--stage", "dev"],
      ["deploy", "--stage", "dev"],
      ["destroy", "--stage", "dev", "--force"],
    ];
    for (const args of commands) {
      expectRefused(await runAlchemy(args, dir), link);
      expect(fs.readFileSync(victim, "utf8"), args.join(" ")).toBe("precious data\n");
    }
    expect(fs.readdirSync(path.dirname(victim))).toEqual(["victim.txt"]);
    expect(fs.readlinkSync(link)).toBe(victim);
    expect(world(dir)).toEqual(["a", "b"]);
    expect(fs.readFileSync(path.join(dir, "world/a"), "utf8")).toBe("alpha");
  });
});

describe("a stage directory that is a symbolic link to a directory elsewhere", () => {
  it("is refused by deploy, destroy, state list and stages, naming the link, which write or remove nothing elsewhere", async () => {
    const { dir, stageDir } = await deployedProject();
    const moved = replaceWithLink(stageDir, outsideDir());
    const before = snapshot(moved);
    expect(Object.keys(before)).toEqual(expect.arrayContaining(["a.json", "backend", "backend/b.json"]));
    const calls = handlerCalls(dir);
    rewrite(dir, body("changed", "changed"));
    expectRefused(await runAlchemy(["deploy", "--stage", "dev"], dir), stageDir);
    expect(snapshot(moved)).toEqual(before);
    rewrite(dir, `await Note("a", { text: "alpha" });`); // b is now an orphan a deploy would delete
    expectRefused(await runAlchemy(["deploy", "--stage", "dev"], dir), stageDir);
    expectRefused(await runAlchemy(["destroy", "--stage", "dev", "--force"], dir), stageDir);
    expectRefused(await runAlchemy(["state", "list", "--app", "shop", "--stage", "dev"], dir), stageDir);
    expectRefused(await runAlchemy(["stages", "--app", "shop"], dir), stageDir);
    expect(snapshot(moved)).toEqual(before);
    expect(handlerCalls(dir)).toBe(calls);
    expect(world(dir)).toEqual(["a", "b"]);
  });

  it("is refused by the first deploy of a stage linked to an empty directory elsewhere, which stays empty", async () => {
    const dir = project(body());
    const elsewhere = outsideDir();
    fs.mkdirSync(path.join(dir, ".alchemy/shop"), { recursive: true });
    const link = path.join(dir, ".alchemy/shop/dev");
    fs.symlinkSync(elsewhere, link);
    expectRefused(await runAlchemy(["deploy", "--stage", "dev"], dir), link);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expect(world(dir)).toEqual([]);
  });
});

describe("a nested scope directory that is a symbolic link to a directory elsewhere", () => {
  it("is refused by deploy, destroy, state list and stages, naming the link, which write or remove nothing elsewhere", async () => {
    const { dir, stageDir } = await deployedProject();
    const link = path.join(stageDir, "backend");
    const moved = replaceWithLink(link, outsideDir());
    const before = snapshot(moved);
    expect(Object.keys(before)).toEqual(["b.json"]);
    rewrite(dir, body("alpha", "changed"));
    expectRefused(await runAlchemy(["deploy", "--stage", "dev"], dir), link);
    rewrite(dir, `await Note("a", { text: "alpha" });`); // b is now an orphan a deploy would delete
    expectRefused(await runAlchemy(["deploy", "--stage", "dev"], dir), link);
    expectRefused(await runAlchemy(["destroy", "--stage", "dev", "--force"], dir), link);
    expectRefused(await runAlchemy(["state", "list", "--app", "shop", "--stage", "dev"], dir), link);
    expectRefused(await runAlchemy(["stages", "--app", "shop"], dir), link);
    expect(snapshot(moved)).toEqual(before);
    expect(world(dir)).toEqual(["a", "b"]);
    expect(fs.readFileSync(path.join(dir, "world/b"), "utf8")).toBe("beta");
  });
});

describe("a record file that is a symbolic link to a file elsewhere", () => {
  it("is refused by state list, deploy and destroy, naming the link, and the file elsewhere keeps its content", async () => {
    const { dir, stageDir } = await deployedProject();
    const link = path.join(stageDir, "a.json");
    const elsewhere = outsideDir();
    const moved = replaceWithLink(link, elsewhere);
    const before = snapshot(elsewhere);
    expectRefused(await runAlchemy(["state", "list", "--app", "shop", "--stage", "dev"], dir), link);
    rewrite(dir, body("changed", "beta"));
    expectRefused(await runAlchemy(["deploy", "--stage", "dev"], dir), link);
    expectRefused(await runAlchemy(["destroy", "--stage", "dev", "--force"], dir), link);
    expect(snapshot(elsewhere)).toEqual(before);
    expect(fs.readlinkSync(link)).toBe(moved);
    expect(fs.readFileSync(path.join(dir, "world/a"), "utf8")).toBe("alpha");
  });
});

describe("stage files that are symbolic links to files elsewhere", () => {
  it("a ~stage.json link is refused by deploy, state list and stages, naming it, and the file elsewhere keeps its content", async () => {
    const { dir, stageDir } = await deployedProject();
    const link = path.join(stageDir, "~stage.json");
    const elsewhere = outsideDir();
    replaceWithLink(link, elsewhere);
    const before = snapshot(elsewhere);
    rewrite(dir, body("changed", "beta"));
    expectRefused(await runAlchemy(["deploy", "--stage", "dev"], dir), link);
    expectRefused(await runAlchemy(["state", "list", "--app", "shop", "--stage", "dev"], dir), link);
    expectRefused(await runAlchemy(["stages", "--app", "shop"], dir), link);
    expect(snapshot(elsewhere)).toEqual(before);
    expect(fs.readFileSync(path.join(dir, "world/a"), "utf8")).toBe("alpha");
  });

  it("a ~lock link is refused by deploy, destroy and stages, naming it, and the file elsewhere keeps its content and time", async () => {
    const { dir, stageDir } = await deployedProject();
    const victim = path.join(outsideDir(), "victim.txt");
    fs.writeFileSync(victim, "precious data\n");
    const old = new Date("2020-01-01T00:00:00Z");
    fs.utimesSync(victim, old, old);
    const link = path.join(stageDir, "~lock");
    fs.symlinkSync(victim, link);
    rewrite(dir, body("changed", "beta"));
    expectRefused(await runAlchemy(["deploy", "--stage", "dev"], dir), link);
    expectRefused(await runAlchemy(["destroy", "--stage", "dev", "--force"], dir), link);
    expectRefused(await runAlchemy(["stages", "--app", "shop"], dir), link);
    expect(fs.readFileSync(victim, "utf8")).toBe("precious data\n");
    expect(fs.statSync(victim).mtime).toEqual(old);
    expect(fs.readdirSync(path.dirname(victim))).toEqual(["victim.txt"]);
    expect(fs.readlinkSync(link)).toBe(victim);
    expect(fs.readFileSync(path.join(dir, "world/a"), "utf8")).toBe("alpha");
  });
});

describe("a .alchemy that is itself a symbolic link to a real directory (the user's choice)", () => {
  it("keeps working: deploy, state list, stages, plan and destroy keep the state in the directory it points to", async () => {
    const dir = project(body());
    const real = path.join(outsideDir(), "state");
    fs.mkdirSync(real);
    fs.symlinkSync(real, path.join(dir, ".alchemy"));
    const ok = async (...args: string[]) => {
      const result = await runAlchemy(args, dir);
      expect(result.code, `${args.join(" ")}: ${result.stdout}${result.stderr}`).toBe(0);
      return result;
    };
    const deploy = await ok("deploy", "--stage", "dev", "-q");
    expect(deploy.stderr).not.toContain("can be written by every user"); // the link's own mode (0777) is not the directory's
    expect(JSON.parse(fs.readFileSync(path.join(real, "shop/dev/backend/b.json"), "utf8"))).toMatchObject({ fqn: "shop/dev/backend/b", status: "created" });
    const list = await ok("state", "list", "--app", "shop", "--stage", "dev");
    expect(list.stderr).toBe("");
    expect(list.stdout).toMatch(/^shop\/dev\/a +test::Note +created\nshop\/dev\/backend\/b +test::Note +created\n$/);
    expect(JSON.parse((await ok("stages", "--app", "shop", "--json")).stdout)).toMatchObject([{ stage: "dev", resources: 2 }]);
    rewrite(dir, body("changed", "beta"));
    expect((await ok("plan", "--stage", "dev")).stdout).toMatch(/1 to update/);
    await ok("deploy", "--stage", "dev", "-q");
    expect(fs.readFileSync(path.join(dir, "world/a"), "utf8")).toBe("changed");
    await ok("destroy", "--stage", "dev", "--force", "-q");
    expect(world(dir)).toEqual([]);
    expect(fs.existsSync(path.join(real, "shop/dev"))).toBe(false);
    expect(fs.lstatSync(path.join(dir, ".alchemy")).isSymbolicLink()).toBe(true);
  });
});
