import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { childEnv } from "../../child-env.test-fixture.js";
import { MINIFLARE_VERSION } from "../../providers/cloudflare/local/load-miniflare.js";
import { REPO, startAlchemy } from "../cli.test-fixture.js";
import { UsageError } from "../exit-codes.js";
import { captureIO } from "../io.test-fixture.js";
import { runCli } from "../program.js";
import { INIT_TEMPLATES, initProject } from "./init.js";

const CLOUDFLARE_FILES = [
  "package.json",
  "tsconfig.json",
  "alchemy.run.ts",
  "src/api/index.ts",
  "src/tsconfig.json",
  "migrations/0001_init.sql",
  "README.md",
  ".gitignore",
];
const repoDevDependencies = (JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies;

let tmp = "";
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "alchemy-init-cf-"));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const read = (...parts: string[]) => readFileSync(path.join(tmp, ...parts), "utf8");

/** Every file under `dir`, relative, with `/` separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

describe("alchemy init --template cloudflare", () => {
  it("writes the program, the Worker with its tsconfig, the first migration and a README, and no workflows", async () => {
    const io = captureIO(tmp);
    expect(await initProject("edge", { force: false, template: "cloudflare" }, io)).toBe(0);

    expect(filesUnder(path.join(tmp, "edge"))).toEqual([...CLOUDFLARE_FILES].sort());
    expect(read("edge", ".gitignore").split("\n")).toEqual([".alchemy/", "node_modules/", ""]);
    expect(io.out()).toContain("cd edge && npm install && npx alchemy dev\n");
    expect(io.out()).toContain("npx alchemy destroy --local");
    expect(io.err()).toBe("");
  });

  it("depends on this copy of alchemy, the Miniflare it is built against, and the repository's esbuild and Workers types", async () => {
    await initProject("edge", { force: false, template: "cloudflare" }, captureIO(tmp));
    const pkg = JSON.parse(read("edge", "package.json"));

    expect(MINIFLARE_VERSION).toBe("4.20260426.0");
    expect(pkg.dependencies).toEqual({ alchemy: `file:${REPO}`, miniflare: MINIFLARE_VERSION, esbuild: repoDevDependencies["esbuild"] });
    expect(pkg.devDependencies).toEqual({
      "@cloudflare/workers-types": repoDevDependencies["@cloudflare/workers-types"],
      "@types/node": repoDevDependencies["@types/node"],
      typescript: repoDevDependencies["typescript"],
      tsx: expect.any(String),
    });
    expect(pkg.scripts).toMatchObject({ dev: "alchemy dev", deploy: "alchemy deploy --local", destroy: "alchemy destroy --local" });
    expect(pkg).toMatchObject({ name: "edge", private: true, type: "module" });
  });

  it("declares, in scope api, a D1 database with ./migrations, a KV namespace and the Worker bound to both, and needs no password", async () => {
    await initProject("edge", { force: false, template: "cloudflare" }, captureIO(tmp));
    const program = read("edge", "alchemy.run.ts");

    expect(program).toContain('import { D1Database, KVNamespace, Worker } from "alchemy/cloudflare";');
    expect(program).toContain('const app = await alchemy("edge");');
    expect(program).toContain('await alchemy.run("api", async () => {');
    expect(program).toContain('D1Database("api-db", { migrationsDir: "./migrations" })');
    expect(program).toMatch(/Worker\("api-worker", \{\s+script: "\.\/src\/api\/index\.ts",\s+bindings: \{ DB: db, CACHE: cache, GREETING: "Hello" \}/);
    expect(program).toContain("console.log(api.url);");
    expect(program).not.toMatch(/secret|password/i);
    expect(program.trimEnd().endsWith("await app.finalize();")).toBe(true);
    expect(JSON.parse(read("edge", "src", "tsconfig.json")).compilerOptions.types).toEqual(["@cloudflare/workers-types"]);
    expect(JSON.parse(read("edge", "tsconfig.json")).include).toEqual(["alchemy.run.ts"]);
    expect(read("edge", "README.md")).toMatch(/npm install\nnpx alchemy dev[\s\S]*http:\/\/127\.0\.0\.1:<port>[\s\S]*src\/api\/index\.ts[\s\S]*npx alchemy destroy --local/);
  });

  it("writes today's project for --template default, as without --template", async () => {
    await initProject("plain", { force: false }, captureIO(tmp));
    await initProject("named", { name: "plain", force: false, template: "default" }, captureIO(tmp));

    const files = filesUnder(path.join(tmp, "plain"));
    expect(files).toContain(".github/workflows/preview.yml");
    expect(filesUnder(path.join(tmp, "named"))).toEqual(files);
    for (const file of files) expect(read("named", file), file).toBe(read("plain", file));
  });
});

describe("alchemy init with an unknown template", () => {
  it("is a usage error naming the templates, and writes nothing", async () => {
    const io = captureIO(tmp);

    await expect(initProject("app", { force: false, template: "nope" }, io)).rejects.toThrow(UsageError);
    await expect(initProject("app", { force: false, template: "nope" }, io)).rejects.toThrow(/unknown template "nope"\. Choose one of: default, cloudflare\./);

    expect(readdirSync(tmp)).toEqual([]);
  });

  it("from the command line: exit 2, the templates named, nothing written", async () => {
    const io = captureIO(tmp);

    expect(await runCli(["init", "app", "--template", "nope"], io)).toBe(2);

    expect(io.err()).toMatch(/'nope' is invalid\. Allowed choices are default, cloudflare\./);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("alchemy init --help lists the templates", async () => {
    const io = captureIO(tmp);

    expect(await runCli(["init", "--help"], io)).toBe(0);

    expect(INIT_TEMPLATES).toEqual(["default", "cloudflare"]);
    expect(io.out()).toMatch(/--template <name>[\s\S]*"default", "cloudflare"/);
    expect(io.out()).toMatch(/Templates:\n {2}default {5}\S[\s\S]*\n {2}cloudflare {2}\S/);
  });
});

describe("the project alchemy init --template cloudflare writes", () => {
  // One project for the suite: each test reads what the one before left, as a user would go on.
  let root = "";
  let project = "";
  const tsxLoader = path.join(REPO, "node_modules", "tsx", "dist", "loader.mjs");
  const tsc = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
  /** The program run by itself, not by the alchemy command, on Miniflare (ALCHEMY_LOCAL=1). */
  const deployLocally = () =>
    spawnSync(process.execPath, ["--conditions", "source", "--import", tsxLoader, "alchemy.run.ts"], {
      cwd: project,
      env: childEnv({ ALCHEMY_LOCAL: "1", ALCHEMY_STAGE: "test" }),
      encoding: "utf8",
    });

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "alchemy-init-cf-e2e-"));
    expect(await initProject("edge", { force: false, template: "cloudflare" }, captureIO(root))).toBe(0);
    project = path.join(root, "edge");
    // What npm install would link: this checkout as alchemy, and the packages installed at the repository's root.
    mkdirSync(path.join(project, "node_modules"));
    symlinkSync(REPO, path.join(project, "node_modules", "alchemy"), "dir");
    for (const scope of ["@cloudflare", "@types"]) symlinkSync(path.join(REPO, "node_modules", scope), path.join(project, "node_modules", scope), "dir");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("deploys locally, printing the Worker's URL, then changes nothing on a second run", () => {
    const first = deployLocally();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(first.stdout).toContain("created 3");
    expect(existsSync(path.join(project, ".alchemy", "edge", "test"))).toBe(true);

    const second = deployLocally();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain("No changes");
  });

  it("serves the Worker under alchemy dev: a greeting, the migrated users, and a cache entry put then read", async () => {
    let ready: (url: string) => void = () => {};
    const url = new Promise<string>((resolve) => (ready = resolve));
    let output = "";
    const dev = startAlchemy(["dev"], project, { ALCHEMY_STAGE: "test" }, (text) => {
      output += text;
      const match = /Ready: edge\/test\/api\/api-worker on (http:\/\/\S+)\n/.exec(output);
      if (match) ready(match[1]!);
    });
    try {
      const base = await Promise.race([url, dev.done.then((r) => Promise.reject(new Error(`alchemy dev exited ${r.code}: ${r.stderr}`)))]);

      expect(await (await fetch(base)).text()).toBe("Hello from the api Worker\n");
      expect(await (await fetch(new URL("users", base))).json()).toEqual([{ id: 1, name: "ada" }]);
      expect((await fetch(new URL("cache/greeting", base), { method: "PUT", body: "hi" })).status).toBe(204);
      expect(await (await fetch(new URL("cache/greeting", base))).text()).toBe("hi");
      expect((await fetch(new URL("cache/missing", base))).status).toBe(404);
    } finally {
      dev.child.kill("SIGINT");
    }
    expect((await dev.done).code).toBe(0);
  });

  it("type-checks: the Workers against @cloudflare/workers-types, the program against this checkout's sources", () => {
    const workers = spawnSync(process.execPath, [tsc, "-p", path.join(project, "src")], { encoding: "utf8" });
    expect(workers.status, workers.stdout + workers.stderr).toBe(0);

    const program = spawnSync(process.execPath, [tsc, "-p", project, "--customConditions", "source"], { encoding: "utf8" });
    expect(program.status, program.stdout + program.stderr).toBe(0);
  });

  it("is deleted with its data by alchemy destroy --local (after the runs above)", async () => {
    // Miniflare keeps one sqlite file per database and namespace, beside its own metadata.sqlite.
    const dataFiles = () => filesUnder(path.join(project, ".alchemy", "~local")).filter((file) => !path.basename(file).startsWith("metadata.sqlite"));
    expect(dataFiles()).not.toEqual([]);

    const destroyed = await startAlchemy(["destroy", "--local", "--force"], project, { ALCHEMY_STAGE: "test" }).done;

    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(destroyed.stdout).toContain("deleted 3");
    expect(dataFiles()).toEqual([]);
  });
});
