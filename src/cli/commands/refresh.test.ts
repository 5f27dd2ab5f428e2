import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runnerEnv } from "../../child-env.test-fixture.js";
import { makeProject, removeProject, REPO, runAlchemy } from "../cli.test-fixture.js";
import { mask, matchesTranscript, parseCommand, readmeBlock, runMerged, transcriptSteps } from "../readme-transcript.test-fixture.js";

const MAIN = path.join(REPO, "src/cli/main.ts");
const TSX = path.join(REPO, "node_modules/tsx/dist/loader.mjs");

const projects: string[] = [];
afterEach(() => projects.splice(0).forEach(removeProject));

/** A project running the quickstart example, deployed to stage dev. */
async function deployedQuickstart(): Promise<string> {
  const dir = makeProject({ "alchemy.run.ts": readFileSync(path.join(REPO, "examples/quickstart/alchemy.run.ts"), "utf8") });
  projects.push(dir);
  const deployed = await runAlchemy(["deploy", "--stage", "dev"], dir);
  expect(deployed.code, deployed.stderr).toBe(0);
  return dir;
}

const page = (dir: string, name: string) => path.join(dir, "out/dev/site", name);
const record = (dir: string, ...names: string[]) => {
  const file = path.join(dir, ".alchemy/quickstart/dev", ...names) + ".json";
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
};
const HELLO = "<h1>Hello from alchemy</h1>\n";
const EDITED = "<h1>edited by hand</h1>\n";

/** index.html edited by hand, about.html deleted by hand. */
function tamper(dir: string): void {
  writeFileSync(page(dir, "index.html"), EDITED);
  rmSync(page(dir, "about.html"));
}

describe("alchemy plan --refresh", () => {
  it("shows the drift before the plan, plans to put it back, exits 2 with --detailed-exitcode, and changes nothing", async () => {
    const dir = await deployedQuickstart();
    tamper(dir);
    const index = record(dir, "site", "index");

    const plain = await runAlchemy(["plan", "--stage", "dev", "--detailed-exitcode"], dir);
    expect([plain.code, plain.stdout.trim()]).toEqual([0, expect.stringMatching(/^No changes: 6 unchanged/)]);

    const planned = await runAlchemy(["plan", "--stage", "dev", "--refresh", "--detailed-exitcode"], dir);
    expect(planned.code, planned.stderr).toBe(2);
    const lines = planned.stdout.trim().split("\n");
    expect(lines).toEqual([
      '! drifted quickstart/dev/site/index  content: "<h1>Hello from alchemy</h1>\\n" -> "<h1>edited by hand</h1>\\n"',
      "! gone quickstart/dev/site/about (it will be created again)",
      "~ update  quickstart/dev/site/index (changed outside alchemy: put back as the program says)",
      '    content: "<h1>edited by hand</h1>\\n" -> "<h1>Hello from alchemy</h1>\\n"',
      "+ create  quickstart/dev/site/about (deleted outside alchemy: created again)",
      "Refreshed 6: 1 drifted, 1 gone, 4 in sync",
      expect.stringMatching(/^Plan: 1 to create, 1 to update, 0 to delete, 4 unchanged \(\d+\.\ds\)$/),
    ]);
    expect(readFileSync(page(dir, "index.html"), "utf8")).toBe(EDITED);
    expect(existsSync(page(dir, "about.html"))).toBe(false);
    expect(record(dir, "site", "index")).toEqual(index);
  });

  it("carries the drift in --json", async () => {
    const dir = await deployedQuickstart();
    tamper(dir);
    const planned = await runAlchemy(["plan", "--stage", "dev", "--refresh", "--json"], dir);
    const document = JSON.parse(planned.stdout);
    expect(document.drift).toEqual([
      {
        fqn: "quickstart/dev/site/index",
        kind: "fs::File",
        status: "drifted",
        changes: [{ path: "content", before: HELLO, after: EDITED }],
        outputChanges: [
          { path: "size", before: Buffer.byteLength(HELLO), after: Buffer.byteLength(EDITED) },
          { path: "sha256", before: expect.any(String), after: expect.any(String) },
        ],
      },
      { fqn: "quickstart/dev/site/about", kind: "fs::File", status: "gone", note: "it will be created again" },
    ]);
    expect(document.refreshed).toEqual({ "in-sync": 4, drifted: 1, gone: 1, unread: 0 });
    expect(document.resources.filter((r: { action: string }) => r.action !== "noop").map((r: { action: string; fqn: string }) => `${r.action} ${r.fqn}`)).toEqual([
      "update quickstart/dev/site/index",
      "create quickstart/dev/site/about",
    ]);
  });
});

describe("alchemy refresh", () => {
  it("records reality (the edited content, the deleted file's record removed) without changing a file; a plain plan then shows what deploy puts back", async () => {
    const dir = await deployedQuickstart();
    tamper(dir);
    const out = record(dir, "out");

    const refreshed = await runAlchemy(["refresh", "--stage", "dev"], dir);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stdout.trim().split("\n")).toEqual([
      '! drifted quickstart/dev/site/index  content: "<h1>Hello from alchemy</h1>\\n" -> "<h1>edited by hand</h1>\\n" (recorded)',
      "! gone quickstart/dev/site/about (its record is removed)",
      expect.stringMatching(/^Refresh: 1 drifted \(recorded\), 1 gone \(record removed\), 4 in sync; no resource was changed \(\d+\.\ds\)$/),
    ]);
    expect(readFileSync(page(dir, "index.html"), "utf8")).toBe(EDITED);
    expect(existsSync(page(dir, "about.html"))).toBe(false);
    expect(record(dir, "site", "index")).toMatchObject({ props: { content: EDITED }, output: { size: Buffer.byteLength(EDITED) } });
    expect(record(dir, "site", "about")).toBeUndefined();
    expect(record(dir, "out")).toEqual(out);

    const again = await runAlchemy(["refresh", "--stage", "dev", "--json"], dir);
    expect(JSON.parse(again.stdout)).toMatchObject({ command: "refresh", exitCode: 0, drift: [], refreshed: { "in-sync": 5, drifted: 0, gone: 0, unread: 0 } });

    const planned = await runAlchemy(["plan", "--stage", "dev", "--detailed-exitcode"], dir);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain(`~ update  quickstart/dev/site/index\n    content: "<h1>edited by hand</h1>\\n" -> "<h1>Hello from alchemy</h1>\\n"`);
    expect(planned.stdout).toContain("+ create  quickstart/dev/site/about\n");
  });
});

describe("alchemy refresh --detailed-exitcode", () => {
  it("exits 2 when it found and recorded drift, then 0 when reality matches the state", async () => {
    const dir = await deployedQuickstart();
    tamper(dir);
    const found = await runAlchemy(["refresh", "--stage", "dev", "--detailed-exitcode"], dir);
    expect(found.code, found.stderr).toBe(2);
    expect(found.stdout).toContain("(recorded)");
    expect(record(dir, "site", "index")).toMatchObject({ props: { content: EDITED } });
    const json = await runAlchemy(["refresh", "--stage", "dev", "--detailed-exitcode", "--json"], dir);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ exitCode: 0, drift: [] });
  });
});

describe("alchemy deploy --refresh", () => {
  it("puts back what was changed and deleted outside alchemy, and nothing else; plan --refresh then exits 0", async () => {
    const dir = await deployedQuickstart();
    tamper(dir);
    const config = record(dir, "site", "api", "config");

    const deployed = await runAlchemy(["deploy", "--stage", "dev", "--refresh"], dir);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain("! gone quickstart/dev/site/about (creating it again)");
    expect(deployed.stdout).toMatch(/created 1, updated 1, deleted 0, unchanged 4/);
    expect(readFileSync(page(dir, "index.html"), "utf8")).toBe(HELLO);
    expect(readFileSync(page(dir, "about.html"), "utf8")).toBe("<p>Deployed by quickstart/dev/site.</p>\n");
    expect(record(dir, "site", "index")).toMatchObject({ status: "updated", props: { content: HELLO } });
    expect(record(dir, "site", "api", "config")).toEqual(config);

    const planned = await runAlchemy(["plan", "--stage", "dev", "--refresh", "--detailed-exitcode"], dir);
    expect([planned.code, planned.stdout.trim()]).toEqual([0, expect.stringMatching(/^Refreshed 6: 0 drifted, 0 gone, 6 in sync\nNo changes: 6 unchanged/)]);
  });
});

describe("the README's drift session", () => {
  it("prints what the README shows, command by command", { timeout: 300_000 }, async () => {
    const root = makeProject({ "examples/quickstart/alchemy.run.ts": readFileSync(path.join(REPO, "examples/quickstart/alchemy.run.ts"), "utf8") });
    projects.push(root);
    const readmeText = readFileSync(path.join(REPO, "README.md"), "utf8");
    const steps = transcriptSteps(readmeBlock(readmeText, "A drift session on the quickstart"));
    expect(steps.map((s) => s.line.split(" ").slice(0, 2).join(" "))).toEqual(["alchemy deploy", "sed -i", "rm examples/quickstart/out/dev/site/about.html", "alchemy plan", "alchemy plan", "alchemy refresh", "alchemy deploy"]);
    const readme: string[] = [];
    const actual: string[] = [];
    for (const step of steps) {
      const { argv, echoExit } = parseCommand(step.line);
      const [command, ...args] = argv;
      // `alchemy` runs the command line from the sources in examples/quickstart, as the README's session does.
      const process_ = command === "alchemy" ? [process.execPath, "--conditions", "source", "--import", TSX, MAIN, "-C", "examples/quickstart", ...args] : argv;
      const result = await runMerged(process_, root, { ...runnerEnv(), PATH: process.env.PATH, HOME: root, USER: "ada" });
      const printed = mask(result.output.replaceAll(root, "/...")).replace(/\n+$/, "");
      const lines = printed === "" ? [] : printed.split("\n");
      if (echoExit) lines.push(`exit ${result.code}`);
      else if (result.code !== 0) lines.push(`[exit ${result.code}]`);
      const expected = step.expected.map(mask);
      readme.push(`$ ${step.line}`, ...expected);
      actual.push(`$ ${step.line}`, ...(matchesTranscript(expected, lines) ? expected : lines));
    }
    expect(actual.join("\n")).toBe(readme.join("\n"));
    expect(readFileSync(path.join(root, "examples/quickstart/out/dev/site/index.html"), "utf8")).toBe(HELLO);
  });
});
