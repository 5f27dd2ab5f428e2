import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeProject, REPO, runAlchemy, runAlchemyOnTerminal, startAlchemy } from "../cli.test-fixture.js";
import { project, record, removeProjectsAfterEach, rewrite, track, world } from "../note-project.test-fixture.js";

removeProjectsAfterEach();

const TWO = `
const a = await Note("a", { text: "alpha" });
await alchemy.run("back", async () => { await Note("b", { text: a.text + "!" }); });
`;

describe("alchemy deploy", () => {
  it("deploys the quickstart, then finds nothing to change on the second run", async () => {
    const dir = track(makeProject({ "alchemy.run.ts": readFileSync(path.join(REPO, "examples/quickstart/alchemy.run.ts"), "utf8") }));
    const first = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("✓ created quickstart/dev/site/api/config");
    expect(first.stdout).toMatch(/created 6, updated 0, deleted 0, unchanged 0 in \d+\.\ds/);
    expect(readFileSync(path.join(dir, "out/dev/site/index.html"), "utf8")).toContain("Hello from alchemy");
    const second = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toMatch(/^No changes: 6 unchanged in \d+\.\ds$/);
  });

  it("takes the stage from --stage, else ALCHEMY_STAGE, else USER", async () => {
    const dir = project(TWO);
    expect((await runAlchemy(["deploy", "--stage", "flag"], dir, { ALCHEMY_STAGE: "env" })).code).toBe(0);
    expect((await runAlchemy(["deploy"], dir, { ALCHEMY_STAGE: "env" })).code).toBe(0);
    expect((await runAlchemy(["deploy"], dir, { USER: "someone" })).code).toBe(0);
    expect(readdirSync(path.join(dir, ".alchemy/shop")).sort()).toEqual(["env", "flag", "someone"]);
  });

  it("stops with a usage error (exit 2) naming both when --stage contradicts the stage the program pins, and deploys nothing", async () => {
    const dir = project(TWO, `{ stage: "dev" }`);
    const result = await runAlchemy(["deploy", "--stage", "prod"], dir);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`--stage prod contradicts stage: "dev" set by application "shop" in the program`);
    expect(result.stdout).toMatch(/Nothing was changed \(\d+\.\ds\)\.\n$/);
    expect(world(dir)).toEqual([]);
    expect(existsSync(path.join(dir, ".alchemy/shop/prod"))).toBe(false);
    expect(existsSync(path.join(dir, ".alchemy/shop/dev"))).toBe(false);
  });

  it("prints one JSON document with every resource's action and the summary under --json, the program's own output going to stderr", async () => {
    const dir = project(`console.log("hello from the program");\n${TWO}`);
    const result = await runAlchemy(["deploy", "--stage", "dev", "--json"], dir);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ command: "deploy", ok: true, exitCode: 0, applications: [{ app: "shop", stage: "dev", phase: "up" }], errors: [] });
    expect(doc.resources.map((r: { fqn: string; action: string }) => [r.fqn, r.action])).toEqual([
      ["shop/dev/a", "create"],
      ["shop/dev/back/b", "create"],
    ]);
    expect(doc.summary).toMatchObject({ created: 2, updated: 0, deleted: 0, unchanged: 0, failed: 0 });
    expect(result.stderr).toContain("hello from the program");
  });

  it("lists every failed resource with its cause and exits 1, deleting nothing", async () => {
    const dir = project(TWO);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    rewrite(dir, `await Note("c", { text: "c", fail: true });`);
    const result = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✗ shop/dev/c: Failed to create \"shop/dev/c\": the provider refused c");
    // a and b are no longer declared, but a failed run must not read that as removal.
    expect(world(dir)).toEqual(["a", "b"]);
  });

  it("shows an exception thrown by the program with its file and line, and deletes nothing", async () => {
    const dir = project(TWO);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    rewrite(dir, `await Note("a", { text: "alpha" });\nthrow new Error("config missing");`);
    const result = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("config missing");
    expect(result.stdout).toContain(`at ${path.join(dir, "alchemy.run.ts")}:5:`);
    expect(world(dir)).toEqual(["a", "b"]);
  });

  it("reports a syntax error in the program with its place, and deletes nothing", async () => {
    const dir = project(TWO);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    writeFileSync(path.join(dir, "alchemy.run.ts"), `import { alchemy } from "./note.ts";\nconst app = await alchemy("shop";\n`);
    const result = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/alchemy\.run\.ts:2:\d+/);
    expect(world(dir)).toEqual(["a", "b"]);
  });

  it("says how to fix a program loaded as CommonJS (no \"type\": \"module\"), whose top-level await cannot run", async () => {
    const dir = project(TWO);
    for (const pkg of [{ name: "project", private: true }, undefined]) {
      if (pkg) writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg));
      else rmSync(path.join(dir, "package.json"));
      const result = await runAlchemy(["deploy", "--stage", "dev"], dir);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`The program is loaded as CommonJS, but its top-level await needs an ES module: add "type": "module" to the package.json next to it`);
      expect(world(dir)).toEqual([]);
    }
  });

  it("stops cleanly on Ctrl-C: the create in flight finishes and is recorded, the rest never start and are named, exit 130", async () => {
    const dir = project(`
for (const id of ["one", "two", "three"]) await Note(id, { text: id, slowMs: 1500 });
`);
    let sent = false;
    const { done } = startAlchemy(["deploy", "--stage", "dev"], dir, {}, (text, child) => {
      if (!sent && text.includes("started one")) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    const result = await done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("started one");
    expect(result.stderr).not.toContain("started two");
    expect(result.stdout).toContain("Interrupted by SIGINT: every operation that had started finished and is recorded; 1 not started (run again to finish):\n  shop/dev/two\n");
    expect(record(dir, "dev", "one").status).toBe("created");
    expect(existsSync(path.join(dir, ".alchemy/shop/dev/two.json"))).toBe(false);
    expect(world(dir)).toEqual(["one"]);
    const rerun = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/created 2, updated 0, deleted 0, unchanged 1/);
  });
});

describe("alchemy plan", () => {
  it("shows each change with its prop path, old and new value, and changes nothing", async () => {
    const dir = project(TWO);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    rewrite(dir, `const a = await Note("a", { text: "ALPHA" });\nawait Note("c", { text: "new" });`);
    const before = readFileSync(path.join(dir, ".alchemy/shop/dev/a.json"), "utf8");
    const result = await runAlchemy(["plan", "--stage", "dev"], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("~ update  shop/dev/a");
    expect(result.stdout).toContain(`    text: "alpha" -> "ALPHA"`);
    expect(result.stdout).toContain("+ create  shop/dev/c");
    expect(result.stdout).toContain("- delete  shop/dev/back/b");
    expect(result.stdout).toMatch(/Plan: 1 to create, 1 to update, 1 to delete, 0 unchanged/);
    expect(readFileSync(path.join(dir, ".alchemy/shop/dev/a.json"), "utf8")).toBe(before);
    expect(world(dir)).toEqual(["a", "b"]);
    expect(readFileSync(path.join(dir, "world/a"), "utf8")).toBe("alpha");
  });

  it("exits 2 under --detailed-exitcode when there are changes, 0 when there are none", async () => {
    const dir = project(TWO);
    expect((await runAlchemy(["plan", "--stage", "dev", "--detailed-exitcode"], dir)).code).toBe(2);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    const none = await runAlchemy(["plan", "--stage", "dev", "--detailed-exitcode"], dir);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/No changes: 2 unchanged/);
  });
});

describe("alchemy destroy", () => {
  it("refuses to run without --force when not on a terminal", async () => {
    const dir = project(TWO);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    const result = await runAlchemy(["destroy", "--stage", "dev"], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("needs --force");
    expect(world(dir)).toEqual(["a", "b"]);
  });

  it("deletes every resource of the stage with --force, then refuses the stage that has no state left", async () => {
    const dir = project(TWO);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    expect((await runAlchemy(["deploy", "--stage", "other"], dir)).code).toBe(0);
    const result = await runAlchemy(["destroy", "--stage", "dev", "--force"], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/created 0, updated 0, deleted 2, unchanged 0/);
    expect(existsSync(path.join(dir, ".alchemy/shop/dev"))).toBe(false);
    expect(existsSync(path.join(dir, ".alchemy/shop/other/a.json"))).toBe(true);
    const again = await runAlchemy(["destroy", "--stage", "dev", "--force"], dir);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`Stage "dev" of application "shop" has no state, so there is nothing to destroy`);
  });
});

describe("alchemy destroy, interrupted", () => {
  it("stops on Ctrl-C after the delete in flight: it is recorded gone, the others stay recorded as they were and are named, exit 130", async () => {
    const dir = project(`for (const id of ["one", "two", "three"]) await Note(id, { text: id, slowMs: 700 });`);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    let sent = false;
    const { done } = startAlchemy(["destroy", "--stage", "dev", "--force"], dir, {}, (text, child) => {
      if (!sent && text.includes("deleting")) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    const result = await done;
    expect(result.code).toBe(130);
    expect(result.stderr.match(/deleting/g)).toHaveLength(1);
    expect(result.stdout).toMatch(/Interrupted by SIGINT.*2 not started/);
    expect(world(dir)).toHaveLength(2);
    const left = world(dir);
    for (const id of left) expect(record(dir, "dev", id).status).toBe("created");
    expect(result.stdout).toContain("; 2 not started (run again to finish):\n  shop/dev/");
    for (const id of left) expect(result.stdout).toContain(`\n  shop/dev/${id}\n`);
    const rerun = await runAlchemy(["destroy", "--stage", "dev", "--force"], dir);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/deleted 2/);
    expect(world(dir)).toEqual([]);
  });
});

describe("on a terminal", () => {
  it("shows live progress with the running count, then the summary", async () => {
    const dir = project(`for (const id of ["a", "b", "c"]) await Note(id, { text: id, slowMs: 300 });`);
    const result = await runAlchemyOnTerminal(["deploy", "--stage", "dev"], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/creating shop\/dev\/b/);
    expect(result.stdout).toMatch(/1\/2\S* resources/);
    expect(result.stdout).toContain("\x1b[J"); // the live area is redrawn in place
    expect(result.stdout).toMatch(/created 3, updated 0, deleted 0, unchanged 0 in \d+\.\ds/);
  });

  it("asks before destroy: any answer but yes cancels (no error, exit 1) and deletes nothing, yes deletes the stage", async () => {
    const dir = project(TWO);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    const no = await runAlchemyOnTerminal(["destroy", "--stage", "dev"], dir, "no\n", 1500);
    expect(no.stdout).toContain(`Destroy 2 resource(s) of shop/dev? This cannot be undone. Type "yes" to go on:`);
    expect(no.code).toBe(1);
    expect(no.stdout).toMatch(/\nCancelled, nothing was changed\.\r?\n$/);
    expect(no.stdout).not.toContain("error");
    expect(world(dir)).toEqual(["a", "b"]);
    const yes = await runAlchemyOnTerminal(["destroy", "--stage", "dev"], dir, "yes\n", 1500);
    expect(yes.code).toBe(0);
    expect(world(dir)).toEqual([]);
  });
});

describe("alchemy read", () => {
  it("prints recorded outputs without calling any handler, and fails on a stage that was not deployed", async () => {
    const dir = project(TWO);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    const result = await runAlchemy(["read", "--stage", "dev", "--json"], dir);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("started");
    const doc = JSON.parse(result.stdout);
    expect(doc.resources).toEqual([
      { fqn: "shop/dev/a", kind: "test::Note", action: "read", status: "done", output: { text: "alpha" } },
      { fqn: "shop/dev/back/b", kind: "test::Note", action: "read", status: "done", output: { text: "alpha!" } },
    ]);
    const missing = await runAlchemy(["read", "--stage", "nowhere"], dir);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(`No recorded output for "shop/nowhere/a"`);
  });
});

describe("the command line", () => {
  it("exits 2 on an unknown flag or a missing program, and 0 for --help and --version", async () => {
    const dir = project(TWO);
    const unknown = await runAlchemy(["deploy", "--stgae", "dev"], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--stgae'");
    const missing = await runAlchemy(["deploy", "nope.ts"], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.ts does not exist");
    const help = await runAlchemy(["--help"], dir);
    expect(help.code).toBe(0);
    for (const command of ["deploy", "plan", "destroy", "read", "state", "unlock", "init"]) expect(help.stdout).toContain(command);
    const version = await runAlchemy(["--version"], dir);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")).version);
  });
});
