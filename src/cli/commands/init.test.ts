import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { UsageError } from "../exit-codes.js";
import { captureIO } from "../io.test-fixture.js";
import { alchemyDependencySpec, initProject } from "./init.js";

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

  it("links this source checkout as the alchemy dependency", async () => {
    await initProject("app", { force: false }, captureIO(tmp));
    expect(JSON.parse(read("app", "package.json")).dependencies).toEqual({ alchemy: `file:${repoRoot}` });
  });

  it("asks for the release line when alchemy is installed in node_modules", () => {
    expect(alchemyDependencySpec("/p/node_modules/alchemy", "0.1.0")).toBe("^0.1.0");
    expect(alchemyDependencySpec("/src/alchemy", "0.1.0")).toBe("file:/src/alchemy");
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
        env: { PATH: process.env.PATH, ALCHEMY_STAGE: "test" },
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
