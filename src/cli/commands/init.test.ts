import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { UsageError } from "../exit-codes.js";
import { captureIO } from "../io.test-fixture.js";
import { alchemyDependencySpec, initProject, transientInstallWarning } from "./init.js";
import { runnerEnv } from "../../child-env.test-fixture.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const PR_STAGE = "pr-${{ github.event.pull_request.number }}";
const GENERATED = [
  "package.json",
  "tsconfig.json",
  "alchemy.run.ts",
  "README.md",
  ".github/workflows/preview.yml",
  ".github/workflows/sweep-previews.yml",
];

type Step = { name?: string; if?: string; uses?: string; run?: string; with?: Record<string, unknown> };
type Job = { if?: string; env: Record<string, string>; steps: Step[] };

/** Every job reads the state store and password from secrets, stops without the store, then checks out and installs with node 20. */
function expectSharedStateSetup(job: Job) {
  expect(job.env).toEqual({
    ALCHEMY_STATE_STORE: "${{ secrets.ALCHEMY_STATE_STORE }}",
    ALCHEMY_PASSWORD: "${{ secrets.ALCHEMY_PASSWORD }}",
  });
  expect(job.steps[0]).toMatchObject({ if: "env.ALCHEMY_STATE_STORE == ''", run: expect.stringMatching(/exit 1\n$/) });
  expect(job.steps.slice(1, 4).map((s) => s.uses ?? s.run)).toEqual(["actions/checkout@v4", "actions/setup-node@v4", "npm ci"]);
  expect(job.steps[2].with?.["node-version"]).toBe(20);
}

let tmp = "";
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "alchemy-init-"));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const read = (...parts: string[]) => readFileSync(path.join(tmp, ...parts), "utf8");

describe("alchemy init", () => {
  it("creates every project file in a new directory named after the app", async () => {
    const io = captureIO(tmp);
    expect(await initProject("my-app", { force: false }, io)).toBe(0);

    for (const file of [...GENERATED, ".gitignore"]) expect(existsSync(path.join(tmp, "my-app", file)), file).toBe(true);
    const pkg = JSON.parse(read("my-app", "package.json"));
    expect(pkg).toMatchObject({
      name: "my-app",
      private: true,
      type: "module",
      scripts: { deploy: "alchemy deploy", destroy: "alchemy destroy", plan: "alchemy plan" },
    });
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(["typescript", "@types/node"]));
    const tsconfig = JSON.parse(read("my-app", "tsconfig.json"));
    expect(tsconfig.compilerOptions).toMatchObject({
      module: "NodeNext",
      moduleResolution: "NodeNext",
      target: "ES2022",
      strict: true,
      noEmit: true,
      types: ["node"],
    });
    const program = read("my-app", "alchemy.run.ts");
    expect(program).toContain('import alchemy from "alchemy";');
    expect(program).toContain('const app = await alchemy("my-app");');
    expect(program).not.toMatch(/alchemy\([^)]*(stage|phase)|phase:/);
    expect(program.trimEnd().endsWith("await app.finalize();")).toBe(true);
    expect(read("my-app", ".gitignore").split("\n")).toEqual(expect.arrayContaining([".alchemy/", "node_modules/"]));
    expect(read("my-app", "README.md")).toMatch(/alchemy deploy[\s\S]*alchemy plan[\s\S]*alchemy destroy/);
    expect(read("my-app", "README.md")).toMatch(/sweep-previews\.yml[\s\S]*npm install pg[\s\S]*ALCHEMY_STATE_STORE[\s\S]*ALCHEMY_PASSWORD/);
    expect(io.out()).toContain("cd my-app && npm install && npx alchemy deploy");
    expect(io.out()).toContain("preview.yml");
  });

  it("links this source checkout as the alchemy dependency, and says so", async () => {
    const io = captureIO(tmp);
    await initProject("app", { force: false }, io);
    expect(JSON.parse(read("app", "package.json")).dependencies).toEqual({ alchemy: `file:${repoRoot}` });
    expect(io.out()).toContain(`package.json depends on this copy of alchemy: "alchemy": "file:${repoRoot}"`);
    expect(io.err()).toBe("");
  });

  it("names the installed copy by path wherever it is installed: the registry's alchemy is another package", () => {
    expect(alchemyDependencySpec("/p/node_modules/alchemy")).toBe("file:/p/node_modules/alchemy");
    expect(alchemyDependencySpec("/usr/lib/node_modules/alchemy")).toBe("file:/usr/lib/node_modules/alchemy");
    expect(alchemyDependencySpec("/src/alchemy")).toBe("file:/src/alchemy");
  });

  it("warns when the copy running init lives in npx's cache, which npm may clear", () => {
    expect(transientInstallWarning("/home/ada/.npm/_npx/4f1c2a/node_modules/alchemy")).toMatch(
      /npx's cache \(\/home\/ada\/\.npm\/_npx\/4f1c2a\/node_modules\/alchemy\).*npm install -g/,
    );
    expect(transientInstallWarning("/usr/lib/node_modules/alchemy")).toBeUndefined();
    expect(transientInstallWarning(repoRoot)).toBeUndefined();
  });

  it("initializes the current directory when no directory is given", async () => {
    const dir = path.join(tmp, "here");
    mkdirSync(dir);
    const io = captureIO(dir);
    expect(await initProject(".", { force: false }, io)).toBe(0);
    expect(read("here", "alchemy.run.ts")).toContain('alchemy("here")');
    expect(io.out()).toContain("\n  npm install && npx alchemy deploy");
  });

  it("refuses to overwrite existing files without --force and writes nothing", async () => {
    mkdirSync(path.join(tmp, "app"));
    writeFileSync(path.join(tmp, "app", "README.md"), "mine\n");
    writeFileSync(path.join(tmp, "app", "package.json"), "{}\n");
    const io = captureIO(tmp);

    expect(await initProject("app", { force: false }, io)).toBe(1);

    expect(io.err()).toContain("README.md");
    expect(io.err()).toContain("package.json");
    expect(io.err()).toContain("--force");
    expect(readdirSync(path.join(tmp, "app")).sort()).toEqual(["README.md", "package.json"]);
    expect(read("app", "README.md")).toBe("mine\n");
  });

  it("overwrites existing files with --force and says which", async () => {
    mkdirSync(path.join(tmp, "app"));
    writeFileSync(path.join(tmp, "app", "README.md"), "mine\n");
    const io = captureIO(tmp);

    expect(await initProject("app", { force: true }, io)).toBe(0);

    expect(read("app", "README.md")).toContain("# app");
    expect(io.out()).toMatch(/overwrote\s+README\.md/);
    expect(io.out()).not.toMatch(/overwrote\s+package\.json/);
  });

  it("appends only the missing lines to an existing .gitignore", async () => {
    mkdirSync(path.join(tmp, "app"));
    writeFileSync(path.join(tmp, "app", ".gitignore"), "dist\n/node_modules");
    const io = captureIO(tmp);

    expect(await initProject("app", { force: false }, io)).toBe(0);

    const lines = read("app", ".gitignore").split("\n");
    expect(lines.slice(0, 2)).toEqual(["dist", "/node_modules"]);
    expect(lines).toContain(".alchemy/");
    expect(lines).not.toContain("node_modules/");
    expect(io.out()).toContain("updated   .gitignore");
  });

  it("asks for --name when the directory's name is not a valid app name", async () => {
    const io = captureIO(tmp);
    await expect(initProject("My App", { force: false }, io)).rejects.toThrow(UsageError);
    await expect(initProject("My App", { force: false }, io)).rejects.toThrow(/--name My-App/);
    expect(existsSync(path.join(tmp, "My App"))).toBe(false);

    expect(await initProject("My App", { name: "my-app", force: false }, io)).toBe(0);
    expect(read("My App", "alchemy.run.ts")).toContain('alchemy("my-app")');
    expect(io.out()).toContain("cd 'My App' && npm install");
  });

  it("rejects an invalid --name", async () => {
    await expect(initProject("app", { name: "a/b", force: false }, captureIO(tmp))).rejects.toThrow(/--name: Invalid application "a\/b"/);
  });

  it("writes a preview workflow that deploys each pull request to its own stage and destroys it on close", async () => {
    await initProject("app", { force: false }, captureIO(tmp));
    const text = read("app", ".github", "workflows", "preview.yml");
    const workflow = parse(text);

    expect(workflow.on.pull_request.types).toEqual(["opened", "synchronize", "reopened", "closed"]);
    expect(workflow.concurrency).toEqual({ group: "preview-pr-${{ github.event.pull_request.number }}", "cancel-in-progress": false });
    const { deploy, destroy } = workflow.jobs;
    expect(deploy.if).toBe("github.event.action != 'closed'");
    expect(destroy.if).toBe("github.event.action == 'closed'");
    for (const job of [deploy, destroy]) expectSharedStateSetup(job);
    expect(deploy.steps.at(-1).run).toBe(`npx alchemy deploy --stage ${PR_STAGE}`);
    expect(destroy.steps.at(-1).run).toBe(`npx alchemy destroy --stage ${PR_STAGE} --force`);
  });

  it("explains atop the preview workflow which store and secrets it needs, without asking to edit the program", async () => {
    await initProject("app", { force: false }, captureIO(tmp));
    const header = read("app", ".github", "workflows", "preview.yml").split("\nname:")[0];

    expect(header).toContain("npm install pg");
    expect(header).toMatch(/ALCHEMY_STATE_STORE\s+postgres:\/\//);
    expect(header).toContain("ALCHEMY_PASSWORD");
    expect(header).not.toMatch(/PostgresStateStore|ALCHEMY_STATE_DATABASE_URL/);
  });

  it("writes a daily sweep workflow that prunes stale preview stages, and only lists them on a dry run", async () => {
    await initProject("app", { force: false }, captureIO(tmp));
    const workflow = parse(read("app", ".github", "workflows", "sweep-previews.yml"));

    expect(workflow.on.schedule).toEqual([{ cron: expect.stringMatching(/^\S+ \S+ \* \* \*$/) }]);
    expect(workflow.on.workflow_dispatch.inputs["dry-run"]).toMatchObject({ type: "boolean", default: true });
    expect(workflow.concurrency).toEqual({ group: "sweep-previews", "cancel-in-progress": false });
    const { sweep } = workflow.jobs;
    expectSharedStateSetup(sweep);
    const prune = "npx alchemy stages prune --app app --match 'pr-*' --older-than 7d";
    expect(sweep.steps.slice(4)).toEqual([
      { name: expect.any(String), if: "${{ !inputs.dry-run }}", run: prune },
      { name: expect.any(String), if: "${{ inputs.dry-run }}", run: `${prune} --dry-run` },
    ]);
  });

  it("writes a program that deploys, then changes nothing on a second run", async () => {
    await initProject("demo", { force: false }, captureIO(tmp));
    const project = path.join(tmp, "demo");
    mkdirSync(path.join(project, "node_modules"));
    symlinkSync(repoRoot, path.join(project, "node_modules", "alchemy"), "dir");
    // tsx is installed in this repository, not in the project.
    const tsx = pathToFileURL(createRequire(path.join(repoRoot, "package.json")).resolve("tsx")).href;
    const run = () =>
      spawnSync(process.execPath, ["--conditions", "source", "--import", tsx, "alchemy.run.ts"], {
        cwd: project,
        env: { ...runnerEnv(), PATH: process.env.PATH, ALCHEMY_STAGE: "test" },
        encoding: "utf8",
      });

    const first = run();
    expect(first.status, first.stderr).toBe(0);
    // One record per resource; ~stage.json holds the stage's metadata, not a resource.
    const records = readdirSync(path.join(project, ".alchemy", "demo", "test")).filter((f) => f.endsWith(".json") && !f.startsWith("~"));
    expect(records.sort()).toEqual(["config.json", "index.json", "out.json", "secret.json"]);
    expect(readFileSync(path.join(project, "out", "test", "index.html"), "utf8")).toContain("Hello from demo");

    const second = run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain("No changes");
  });
});

describe("alchemy init from an installed copy", () => {
  /** npm with the registry unreachable: a dependency npm would fetch fails the test instead of reaching the registry's unrelated alchemy. */
  const npm = (args: string[], cwd: string) =>
    spawnSync("npm", [...args, "--registry=http://127.0.0.1:9/", "--no-audit", "--no-fund"], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_update_notifier: "false" },
      encoding: "utf8",
    });
  /** `alchemy init ...args` run by the copy of alchemy at `packageRoot`, from its sources (a build may predate them). */
  const initWith = (packageRoot: string, args: string[], cwd: string) =>
    spawnSync(
      process.execPath,
      ["--conditions", "source", "--import", pathToFileURL(path.join(repoRoot, "node_modules/tsx/dist/loader.mjs")).href, path.join(packageRoot, "src/cli/main.ts"), "init", ...args],
      { cwd, env: { ...runnerEnv(), PATH: process.env.PATH, HOME: process.env.HOME }, encoding: "utf8" },
    );

  /**
   * The tarball npm pack makes, unpacked where `npm install -g` puts it
   * (<prefix>/lib/node_modules/alchemy), beside its runtime dependencies; a
   * project made there by that copy's init, without its devDependencies
   * (typescript, tsx and @types/node come from the registry, and are not
   * what these tests are about).
   */
  let installed = "";
  let installRoot = "";
  beforeAll(() => {
    installRoot = realpathSync(mkdtempSync(path.join(tmpdir(), "alchemy-installed-")));
    const pack = npm(["pack", "--ignore-scripts", "--json", "--pack-destination", installRoot], repoRoot);
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = path.join(installRoot, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0].filename);
    installed = path.join(installRoot, "prefix", "lib", "node_modules", "alchemy");
    mkdirSync(path.join(installed, "node_modules"), { recursive: true });
    const untar = spawnSync("tar", ["-xzf", tarball, "--strip-components=1", "-C", installed], { encoding: "utf8" });
    expect(untar.status, untar.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies)) {
      mkdirSync(path.dirname(path.join(installed, "node_modules", dep)), { recursive: true }); // a scoped package's @scope/
      symlinkSync(path.join(repoRoot, "node_modules", dep), path.join(installed, "node_modules", dep), "dir");
    }
  }, 120_000);
  afterAll(() => rmSync(installRoot, { recursive: true, force: true }));

  /** `alchemy init my-app` by the installed copy, in a directory of its own; the project's path. */
  const initFromInstalled = (): { project: string; stdout: string } => {
    const init = initWith(installed, ["my-app"], tmp);
    expect(init.status, init.stderr).toBe(0);
    const project = path.join(tmp, "my-app");
    const pkg = JSON.parse(readFileSync(path.join(project, "package.json"), "utf8"));
    delete pkg.devDependencies;
    writeFileSync(path.join(project, "package.json"), JSON.stringify(pkg, null, 2));
    return { project, stdout: init.stdout };
  };

  it("made from the packed tarball: package.json names the installed copy, and npm install links it without the registry", () => {
    const { project, stdout } = initFromInstalled();

    expect(JSON.parse(readFileSync(path.join(project, "package.json"), "utf8")).dependencies).toEqual({ alchemy: `file:${installed}` });
    expect(stdout).toContain(`"alchemy": "file:${installed}"`);
    const install = npm(["install", "--ignore-scripts"], project);
    expect(install.status, install.stderr).toBe(0);
    expect(realpathSync(path.join(project, "node_modules", "alchemy"))).toBe(installed);
    expect(readlinkSync(path.join(project, "node_modules", ".bin", "alchemy"))).toBe("../alchemy/dist/cli/main.js");
    const lock = JSON.parse(readFileSync(path.join(project, "package-lock.json"), "utf8"));
    expect(lock.packages["node_modules/alchemy"]).toMatchObject({ link: true });
    expect(JSON.stringify(lock)).not.toContain("registry.npmjs.org");
  });

  it("made from the packed tarball: npm install runs the linked copy's install scripts, and they have nothing to build there", () => {
    const { project } = initFromInstalled();

    // npm runs a linked directory's `prepare`; an installed copy has neither sources to build nor a compiler.
    const install = npm(["install"], project);

    expect(install.status, install.stderr).toBe(0);
    expect(realpathSync(path.join(project, "node_modules", "alchemy"))).toBe(installed);
  });

  it("run from a checkout linked onto the PATH (npm install -g . or npm link), names the checkout itself", () => {
    const linked = path.join(tmp, "prefix", "lib", "node_modules", "alchemy");
    mkdirSync(path.dirname(linked), { recursive: true });
    symlinkSync(repoRoot, linked, "dir");

    const init = initWith(linked, ["app"], tmp);

    expect(init.status, init.stderr).toBe(0);
    expect(JSON.parse(read("app", "package.json")).dependencies).toEqual({ alchemy: `file:${realpathSync(repoRoot)}` });
  });
});
