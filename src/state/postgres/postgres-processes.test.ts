import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTestSchema, type TestSchema } from "./postgres.test-fixture.js";
import { DELETE_EVERY, processRecord } from "./store-process.test-fixture.js";

const repo = path.resolve(import.meta.dirname, "../../..");
const fixture = path.join(import.meta.dirname, "store-process.test-fixture.ts");
const nodeArgs = ["--import", path.join(repo, "node_modules/tsx/dist/loader.mjs"), "--conditions", "source", fixture];

interface Outcome {
  writer: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts one child per writer, releases them together once all are ready, and waits for them. */
async function runTogether(db: TestSchema, writers: string[], count: number): Promise<Outcome[]> {
  const children = writers.map((writer) => {
    const child = spawn(process.execPath, nodeArgs, {
      cwd: repo,
      env: { ...process.env, DATABASE_URL: db.connectionString, SCHEMA: db.schema, WRITER: writer, COUNT: String(count) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const outcome: Outcome = { writer, code: null, stdout: "", stderr: "" };
    child.stderr.on("data", (d) => (outcome.stderr += d));
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d) => {
        outcome.stdout += d;
        if (outcome.stdout.includes("ready\n")) resolve();
      });
      child.on("exit", () => reject(new Error(`${writer} exited before it was ready: ${outcome.stderr}`)));
    });
    const exited = new Promise<Outcome>((resolve) => child.on("exit", (code) => resolve({ ...outcome, code })));
    return { child, ready, exited };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
  } catch (error) {
    children.forEach((c) => c.child.kill());
    throw error;
  }
  children.forEach((c) => c.child.stdin.end("go\n"));
  return Promise.all(children.map((c) => c.exited));
}

/** The scope/id keys the writers leave behind. */
function expectedKeys(writers: string[], count: number): string[] {
  return writers
    .flatMap((writer) => Array.from({ length: count }, (_, n) => n).filter((n) => n % DELETE_EVERY !== 0).map((n) => processRecord(writer, n)))
    .map(({ chain, state }) => `${chain.join("/")} ${state.id}`)
    .sort();
}

describe("PostgresStateStore across processes", () => {
  const db = useTestSchema();

  it("loses nothing when two processes, each with its own store factory, write different records at once", { timeout: 120_000 }, async () => {
    const writers = ["left", "right"];
    const outcomes = await runTogether(db, writers, 3_000);
    for (const o of outcomes) {
      expect(o.stderr, o.writer).toBe("");
      expect(o.code, o.writer).toBe(0);
      expect(o.stdout, o.writer).toContain("done 3000");
    }
    const rows = await db.query<{ key: string }>(`SELECT scope || ' ' || id AS key FROM ${db.schema}.records`);
    expect(rows.map((r) => r.key).sort()).toEqual(expectedKeys(writers, 3_000));
    const [sample] = await db.query<{ body: string }>(`SELECT body FROM ${db.schema}.records WHERE id = 'right-7'`);
    expect(JSON.parse(sample!.body)).toEqual(processRecord("right", 7).state);
  });

  it("migrates an empty schema without error when 20 processes start at once", { timeout: 180_000 }, async () => {
    const writers = Array.from({ length: 20 }, (_, i) => `p${i}`);
    const outcomes = await runTogether(db, writers, 4);
    for (const o of outcomes) {
      expect(o.stderr, o.writer).toBe("");
      expect(o.code, o.writer).toBe(0);
    }
    expect(await db.query(`SELECT version FROM ${db.schema}.schema_version ORDER BY version`)).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    const rows = await db.query<{ key: string }>(`SELECT scope || ' ' || id AS key FROM ${db.schema}.records`);
    expect(rows.map((r) => r.key).sort()).toEqual(expectedKeys(writers, 4));
  });
});
