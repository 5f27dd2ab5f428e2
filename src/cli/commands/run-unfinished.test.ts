import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, runAlchemy, startAlchemy } from "../cli.test-fixture.js";
import { NOTE, program, project, record, removeProjectsAfterEach, rewrite, track, world } from "../note-project.test-fixture.js";
import { createTestSchema, type TestSchema } from "../../state/postgres/postgres.test-fixture.js";

removeProjectsAfterEach();

/** A resource kind whose handler, in every phase, never settles under HANG=1, and calls process.exit($EXIT) under EXIT. */
const STALLER = `
import { Resource } from "alchemy";
export const Staller = Resource("test::Staller", async function (id: string, props: { text: string }) {
  process.stderr.write("started " + this.phase + " " + id + "\\n");
  if (process.env.HANG) await new Promise(() => {});
  if (process.env.EXIT) process.exit(Number(process.env.EXIT));
  if (this.phase === "delete") return this.destroy();
  return { text: props.text };
});
`;

/** `a` first; then `stuck` alongside `b`, which settles 300 ms later; with PROGRAM_HANG=1 the program itself then awaits forever. */
const PROGRAM = `
import { alchemy, Note } from "./note.ts";
import { Staller } from "./staller.ts";
const app = await alchemy("shop");
await Note("a", { text: "alpha" });
await Promise.all([Staller("stuck", { text: "s" }), Note("b", { text: "beta", slowMs: 300 })]);
if (process.env.PROGRAM_HANG) await new Promise(() => {});
await app.finalize();
`;

const stallerProject = () => track(makeProject({ "note.ts": NOTE, "staller.ts": STALLER, "alchemy.run.ts": PROGRAM }));
const stageFile = (dir: string, name: string) => path.join(dir, ".alchemy/shop/dev", name);
/** The journal is gone or empty: everything it held reached the record files. */
const journalSettled = (dir: string) => !existsSync(stageFile(dir, "~journal")) || statSync(stageFile(dir, "~journal")).size === 0;

let db: TestSchema | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});
/** Each store, as the --state arguments that select it (a PostgreSQL schema of the test's own). */
const STORES: { name: string; state: () => Promise<string[]> }[] = [
  { name: "filesystem", state: async () => [] },
  { name: "SQLite", state: async () => ["--state", "sqlite:state.sqlite"] },
  {
    name: "PostgreSQL",
    state: async () => {
      db = await createTestSchema();
      return ["--state", `${db.connectionString}?schema=${db.schema}`];
    },
  },
];

describe("a handler whose promise never settles", () => {
  it("is reported once nothing is left to wait on: the create stays recorded 'creating', the stage lock is released, exit 1; the next deploy resumes it", async () => {
    const dir = stallerProject();
    const result = await runAlchemy(["deploy", "--stage", "dev"], dir, { HANG: "1" });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✓ created shop/dev/b");
    expect(result.stdout).toContain(
      `✗ shop/dev/stuck: create never finished: the handler of test::Staller returned a promise that never settled, and nothing was left for it to wait on ` +
        `(no timer, socket or file operation pending). Its record stays "creating"; the next alchemy deploy resumes it. Check what the handler awaits.`,
    );
    expect(result.stdout).toContain("The run was stuck and stopped there. The stage lock of shop/dev is released.");
    expect(result.stdout).toMatch(/created 2, updated 0, deleted 0, unchanged 0 in \d+\.\ds\n$/);
    expect(existsSync(stageFile(dir, "~lock"))).toBe(false);
    expect(journalSettled(dir)).toBe(true);
    expect(record(dir, "dev", "stuck").status).toBe("creating");
    expect(record(dir, "dev", "b").status).toBe("created");

    const next = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout + next.stderr).not.toContain("Took over");
    expect(next.stdout).toContain("✓ created shop/dev/stuck");
    expect(record(dir, "dev", "stuck").status).toBe("created");
  });

  it.each(STORES.slice(1))("releases the stage lock of the $name store too: the next deploy needs no take-over and resumes the create", async ({ state }) => {
    const dir = stallerProject();
    const args = ["deploy", "--stage", "dev", ...(await state())];
    const result = await runAlchemy(args, dir, { HANG: "1" });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`✗ shop/dev/stuck: create never finished: the handler of test::Staller returned a promise that never settled`);
    expect(result.stdout).toContain("The stage lock of shop/dev is released.");
    const next = await runAlchemy(args, dir);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout + next.stderr).not.toContain("Took over");
    expect(next.stderr).toContain(`shop/dev/stuck: resuming: the record was left "creating"`);
  });

  it("under --json prints one document with ok false, the pending delete and its error, when a destroy's handler never settles", async () => {
    const dir = stallerProject();
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    const result = await runAlchemy(["destroy", "--stage", "dev", "--force", "--json"], dir, { HANG: "1" });
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ command: "destroy", ok: false, exitCode: 1, unfinished: "stuck" });
    expect(doc.pending).toEqual([{ fqn: "shop/dev/stuck", kind: "test::Staller", action: "delete" }]);
    expect(doc.errors).toContainEqual({
      fqn: "shop/dev/stuck",
      message: expect.stringContaining(`delete never finished: the handler of test::Staller returned a promise that never settled`),
    });
    expect(doc.errors[0].message).toContain(`Its record stays "deleting"; the next alchemy destroy resumes it.`);
    expect(existsSync(stageFile(dir, "~lock"))).toBe(false);
    expect(record(dir, "dev", "stuck").status).toBe("deleting");

    const next = await runAlchemy(["destroy", "--stage", "dev", "--force"], dir);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(world(dir)).toEqual([]);
  });
});

describe("a program whose top-level code never settles", () => {
  it("is reported with what it finished, deletes nothing, releases the stage lock and exits 1, under --json too", async () => {
    const dir = stallerProject();
    const result = await runAlchemy(["deploy", "--stage", "dev"], dir, { PROGRAM_HANG: "1" });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✓ created shop/dev/stuck");
    expect(result.stdout).toContain(
      `✗ The program never finished: it awaits a promise that never settled, and nothing was left for it to wait on ` +
        `(no timer, socket or file operation pending). Check what ${path.join(dir, "alchemy.run.ts")} awaits.`,
    );
    expect(result.stdout).toContain("The run was stuck and stopped there. The stage lock of shop/dev is released.");
    expect(existsSync(stageFile(dir, "~lock"))).toBe(false);
    expect(world(dir)).toEqual(["a", "b"]);

    const json = await runAlchemy(["deploy", "--stage", "dev", "--json"], dir, { PROGRAM_HANG: "1" });
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ ok: false, exitCode: 1, unfinished: "stuck", pending: [] });
    expect(doc.errors).toEqual([{ message: expect.stringContaining("The program never finished") }]);
    expect(existsSync(stageFile(dir, "~lock"))).toBe(false);
  });
});

describe("process.exit called by a handler", () => {
  it.each(STORES)("exits 1 instead of 0, naming the resources left pending; the next deploy takes the stage lock over at once and resumes them ($name store)", async ({ state }) => {
    const dir = stallerProject();
    const args = ["deploy", "--stage", "dev", ...(await state())];
    const result = await runAlchemy(args, dir, { EXIT: "0" });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `✗ shop/dev/stuck: create never finished: the process exited while it was in flight. Its record stays "creating"; the next alchemy deploy resumes it.`,
    );
    expect(result.stdout).toMatch(
      new RegExp(`✗ process.exit\\(0\\) was called during the run \\(exit code 1 instead\\)\\.\n +at ${path.join(dir, "staller.ts")}:6:\\d+\n`),
    );
    expect(result.stdout).toContain(`The stage lock of shop/dev is still held: the next run on this host takes it over at once`);

    const started = Date.now();
    const next = await runAlchemy(args, dir);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000); // far less than the 30 s lease
    expect(next.stdout + next.stderr).toContain(`Took over a stale lock on stage "dev"`);
    expect(next.stdout).toContain("✓ created shop/dev/stuck");
    expect(world(dir)).toEqual(["a", "b"]);
  });

  it("keeps a non-zero exit code, and under --json still prints one document with ok false and the pending create", async () => {
    const dir = stallerProject();
    const result = await runAlchemy(["deploy", "--stage", "dev", "--json"], dir, { EXIT: "3" });
    expect(result.code).toBe(3);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ command: "deploy", ok: false, exitCode: 3, unfinished: "exited" });
    expect(doc.pending).toContainEqual({ fqn: "shop/dev/stuck", kind: "test::Staller", action: "create" });
    expect(doc.errors).toContainEqual({ fqn: "shop/dev/stuck", message: expect.stringContaining("the process exited while it was in flight") });
    expect(readFileSync(path.join(dir, "calls.log"), "utf8")).toContain("create a");
  });
});

describe("process.exit called by the program", () => {
  it("exits 0 with the summary once its application is finalized, and 1 before, naming the stage lock left held", async () => {
    const dir = project(`await Note("a", { text: "alpha" });\nif (process.env.EARLY) process.exit(0);`);
    const early = await runAlchemy(["deploy", "--stage", "dev"], dir, { EARLY: "1" });
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(/✗ process\.exit\(0\) was called during the run \(exit code 1 instead\)\.\n +at .*alchemy\.run\.ts:5:\d+\n/);
    expect(early.stdout).toContain("The stage lock of shop/dev is still held: the next run on this host takes it over at once");

    writeFileSync(path.join(dir, "alchemy.run.ts"), program(`await Note("a", { text: "alpha" });`) + "process.exit(0);\n");
    const late = await runAlchemy(["deploy", "--stage", "dev", "--json"], dir);
    expect(late.code).toBe(0);
    expect(JSON.parse(late.stdout)).toMatchObject({ ok: true, exitCode: 0, errors: [], summary: { unchanged: 1 } });
    expect(existsSync(stageFile(dir, "~lock"))).toBe(false);
  });
});

describe("a second Ctrl-C", () => {
  it("exits 130 at once, naming the create left in flight, which the next deploy resumes", async () => {
    const dir = project(`await Note("a", { text: "alpha" });\nawait Note("slow", { text: "s", slowMs: 20_000 });`);
    let sent = false;
    const { done } = startAlchemy(["deploy", "--stage", "dev"], dir, {}, (text, child) => {
      if (!sent && text.includes("started slow")) {
        sent = true;
        child.kill("SIGINT");
        setTimeout(() => child.kill("SIGINT"), 300);
      }
    });
    const result = await done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("SIGINT again: exiting now.");
    expect(result.stdout).toContain(
      `✗ shop/dev/slow: create never finished: the process exited while it was in flight. Its record stays "creating"; the next alchemy deploy resumes it.`,
    );
    expect(result.stdout).toContain("Interrupted by SIGINT, then exited without waiting for the operations in flight.");
    expect(result.stdout).not.toContain("process.exit(");
    expect(record(dir, "dev", "a").status).toBe("created");

    rewrite(dir, `await Note("a", { text: "alpha" });\nawait Note("slow", { text: "s" });`);
    const next = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toContain("✓ created shop/dev/slow");
    expect(world(dir)).toEqual(["a", "slow"]);
  });
});
