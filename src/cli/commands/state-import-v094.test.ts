import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../history/history-entry.js";
import { makeProject, REPO, runAlchemy } from "../cli.test-fixture.js";
import { captureIO } from "../io.test-fixture.js";
import { removeProjectsAfterEach, track } from "../note-project.test-fixture.js";
import { runCli } from "../program.js";
import { PASSWORD } from "../../state/import-v094/fixtures/storefront.mjs";
import { createTestSchema, type TestSchema } from "../../state/postgres/postgres.test-fixture.js";

removeProjectsAfterEach();
let db: TestSchema | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

// The .alchemy directory Alchemy 0.94 wrote for fixtures/storefront.mjs (see bench/v094-fixture/generate.mjs).
const FIXTURES = path.join(REPO, "src/state/import-v094/fixtures");
const V094_STAGE = path.join(FIXTURES, "v094-state/storefront/prod");
const WITH_PASSWORD = { ALCHEMY_PASSWORD: PASSWORD };

/** A project holding the 0.94 state in .alchemy/ and the same program, written for this engine. */
function projectFrom094(): string {
  const dir = track(
    makeProject({
      "storefront.mjs": readFileSync(path.join(FIXTURES, "storefront.mjs"), "utf8"),
      "alchemy.run.mjs": `import alchemy, { Resource } from "alchemy";\nimport { storefront } from "./storefront.mjs";\nawait storefront({ alchemy, Resource });\n`,
    }),
  );
  cpSync(path.join(FIXTURES, "v094-state"), path.join(dir, ".alchemy"), { recursive: true });
  return dir;
}

/** Every file below `dir` with its content, relative paths sorted. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = readFileSync(full, "utf8");
    }
  };
  walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const cli = async (dir: string, env: NodeJS.ProcessEnv, ...argv: string[]) => {
  const io = captureIO(dir, { USER: "ada", ...env });
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
};

describe("alchemy state import --from alchemy-0.94", () => {
  it("converts the stage in place, keeps the original as a backup, and the same program then plans no changes", async () => {
    const dir = projectFrom094();
    const imported = await runAlchemy(["state", "import", "--from", "alchemy-0.94"], dir, WITH_PASSWORD);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    const backup = path.join(dir, ".alchemy/~v094-backup/storefront/prod");
    expect(imported.stdout.split("\n")).toEqual([
      `Imported 6 record(s) of storefront/prod that Alchemy 0.94 wrote in ${path.join(dir, ".alchemy")} into ${path.join(dir, ".alchemy")}; verified.`,
      "- dependencies: 3, recovered from the resource outputs embedded in props",
      "- scope records dropped: 2 (storefront/prod/backend, storefront/prod/backend/workers)",
      expect.stringMatching(/^- secrets: 8 value\(s\) decrypted with ALCHEMY_PASSWORD and encrypted again for this engine \(stage key [0-9a-f]{12}\); keep using that password$/),
      `- the Alchemy 0.94 files were moved to ${backup}, unchanged (delete them once you no longer need them)`,
      "Next: run the program's plan (alchemy plan --stage prod); it should show no changes.",
      "",
    ]);
    // The backup is exactly what 0.94 wrote; the scope records are gone from the state.
    expect(tree(backup)).toEqual(tree(V094_STAGE));
    expect(existsSync(path.join(dir, ".alchemy/storefront/prod/backend.json"))).toBe(false);
    expect(existsSync(path.join(dir, ".alchemy/storefront/prod/backend/workers.json"))).toBe(false);

    // Five declared resources unchanged; the page that site's handler declares is not visited, as site is unchanged.
    const plan = await runAlchemy(["plan", "--stage", "prod"], dir, WITH_PASSWORD);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(0);
    expect(plan.stdout.trim()).toMatch(/^No changes: 5 unchanged in \d+\.\ds$/);

    // Dependencies as a deploy records them; secrets sealed for this engine and opening only with the password.
    const exported = await cli(dir, WITH_PASSWORD, "state", "export", "--stage", "prod");
    expect(exported.code).toBe(0);
    expect(exported.out).not.toContain("Symbol(");
    const deps = Object.fromEntries(JSON.parse(exported.out).records.map((r: { state: { fqn: string; deps: string[] } }) => [r.state.fqn, r.state.deps]));
    expect(deps["storefront/prod/backend/workers/api"]).toEqual(["storefront/prod/assets", "storefront/prod/backend/db"]);
    expect(deps["storefront/prod/www"]).toEqual(["storefront/prod/backend/workers/api"]);
    expect(exported.out).toMatch(/"@secret": "v1\.[0-9a-f]{12}\./);
    const wrong = await runAlchemy(["plan", "--stage", "prod"], dir, { ALCHEMY_PASSWORD: "not the password" });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('Wrong password for the secrets of stage "prod"');

    // The records are the engine's own now: destroy deletes all six, dependents first.
    const destroyed = await runAlchemy(["destroy", "--stage", "prod", "--force"], dir, WITH_PASSWORD);
    expect(destroyed.code).toBe(0);
    expect(destroyed.stdout).toMatch(/deleted 6/);
  });

  it("converts into a SQLite store, leaving the 0.94 files unchanged, and refuses to import onto a stage that has records there", async () => {
    const dir = projectFrom094();
    const imported = await runAlchemy(["state", "import", "--from", "alchemy-0.94", ".alchemy", "--to", "sqlite:state.sqlite"], dir, WITH_PASSWORD);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`into sqlite:${path.join(dir, "state.sqlite")}; verified.`);
    expect(imported.stdout).toContain(`- the Alchemy 0.94 files in ${path.join(dir, ".alchemy/storefront/prod")} are unchanged`);
    expect(imported.stdout).toContain("Next: run the program's plan (alchemy plan --stage prod --state sqlite:state.sqlite)");
    expect(tree(path.join(dir, ".alchemy/storefront/prod"))).toEqual(tree(V094_STAGE));
    expect(existsSync(path.join(dir, ".alchemy/~v094-backup"))).toBe(false);

    const plan = await runAlchemy(["plan", "--stage", "prod", "--state", "sqlite:state.sqlite"], dir, WITH_PASSWORD);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(0);
    expect(plan.stdout.trim()).toMatch(/^No changes: 5 unchanged in \d+\.\ds$/);

    const again = await cli(dir, WITH_PASSWORD, "state", "import", "--from", "alchemy-0.94", "--to", "sqlite:state.sqlite");
    expect(again.code).toBe(1);
    expect(again.err).toContain('Stage "prod" of app "storefront" already has 6 record(s)');
  });

  it("converts into PostgreSQL, after which the program planned against it has no changes", async () => {
    const dir = projectFrom094();
    db = await createTestSchema();
    const url = `${db.connectionString}?schema=${db.schema}`;
    const imported = await cli(dir, WITH_PASSWORD, "state", "import", "--from", "alchemy-0.94", "--to", url);
    expect(imported.err).toBe("");
    expect(imported.code).toBe(0);
    const rows = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${db.schema}".records`);
    expect(Number(rows[0]!.n)).toBe(6);
    const plan = await runAlchemy(["plan", "--stage", "prod", "--state", url], dir, WITH_PASSWORD);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(0);
    expect(plan.stdout.trim()).toMatch(/^No changes: 5 unchanged in \d+\.\ds$/);
  });

  it.each([
    ["in place", []],
    ["into a SQLite store", ["--to", "sqlite:state.sqlite"]],
  ])("appends one history entry, %s, with every converted resource as created", async (_, to) => {
    const dir = projectFrom094();
    const state = to.length > 0 ? ["--state", to[1]!, "--app", "storefront"] : [];
    const imported = await cli(dir, WITH_PASSWORD, "state", "import", "--from", "alchemy-0.94", ...to);
    expect(imported.err).toBe("");
    expect(imported.code).toBe(0);

    const exported = await cli(dir, WITH_PASSWORD, "state", "export", "--stage", "prod", ...state);
    expect(exported.code, exported.err).toBe(0);
    const converted = JSON.parse(exported.out).records.map((r: { state: { fqn: string; kind: string } }) => ({ fqn: r.state.fqn, kind: r.state.kind, action: "create" }));
    expect(converted).toHaveLength(6);
    const history = await cli(dir, WITH_PASSWORD, "state", "history", "--stage", "prod", "--json", ...state);
    expect(history.code, history.err).toBe(0);
    const entries = JSON.parse(history.out) as HistoryEntry[];
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ command: "state import", outcome: "ok" });
    expect(entries[0]!.resources.map(({ fqn, kind, action }) => ({ fqn, kind, action }))).toEqual(converted.sort((a: { fqn: string }, b: { fqn: string }) => (a.fqn < b.fqn ? -1 : 1)));
  });

  it("refuses, changing nothing, when the stage holds secrets and no password is given", async () => {
    const dir = projectFrom094();
    const result = await cli(dir, {}, "state", "import", "--from", "alchemy-0.94");
    expect(result.code).toBe(1);
    expect(result.err).toContain("Stage storefront/prod holds 8 secret value(s) Alchemy 0.94 encrypted");
    expect(result.err).toContain("Set ALCHEMY_PASSWORD to the password the stage was deployed with");
    expect(tree(path.join(dir, ".alchemy"))).toEqual(tree(path.join(FIXTURES, "v094-state")));
  });

  it("asks for --stage when the directory holds several stages, and refuses a stage imported already", async () => {
    const dir = projectFrom094();
    mkdirSync(path.join(dir, ".alchemy/storefront/dev"));
    const several = await cli(dir, WITH_PASSWORD, "state", "import", "--from", "alchemy-0.94");
    expect(several.code).toBe(2);
    expect(several.err).toContain("holds several stages (dev, prod): choose one with --stage <stage>");
    expect((await cli(dir, WITH_PASSWORD, "state", "import", "--from", "alchemy-0.94", "--stage", "prod")).code).toBe(0);
    const twice = await cli(dir, WITH_PASSWORD, "state", "import", "--from", "alchemy-0.94", "--stage", "prod");
    expect(twice.code).toBe(1);
    expect(twice.err).toContain("it was imported already, or deployed with this engine");
  });

  it("is a usage error without an export or --from, and for a format it does not know", async () => {
    const dir = projectFrom094();
    expect((await cli(dir, {}, "state", "import")).code).toBe(2);
    const unknown = await cli(dir, {}, "state", "import", "--from", "alchemy-0.93");
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("Allowed choices are alchemy-0.94");
  });
});
