/**
 * A holder paused in the middle of a write transaction (SIGSTOP, a suspended
 * machine) keeps the stage's lock row locked. The run that takes the stage
 * over once the lease has run out must not wait for it forever.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { currentHolder } from "../stage-lock.js";
import { PostgresStateStore } from "./postgres-state-store.js";
import { useTestSchema } from "./postgres.test-fixture.js";

const REPO = fileURLToPath(new URL("../../..", import.meta.url));
const LEASE_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes the lock of app/dev with a short lease and writes record after record, each batch in its own fenced transaction. */
const WRITER = `
  import { PostgresStateStore } from ${JSON.stringify(path.join(REPO, "src/state/postgres/postgres-state-store.ts"))};
  const [connectionString, schema] = process.argv.slice(1);
  const store = new PostgresStateStore({ chain: ["app", "dev"] }, { connectionString, schema });
  await store.lock({ holder: { user: "w", host: "elsewhere", pid: process.pid, command: "writer" }, leaseMs: ${LEASE_MS}, timeoutMs: 0 });
  process.stdout.write("locked\\n");
  try {
    for (let i = 0; ; i++) {
      await store.set("r" + (i % 50), { status: "created", kind: "test::W", id: "r" + (i % 50), fqn: "app/dev/r" + (i % 50), seq: i, data: {}, props: {}, output: {}, deps: [] });
    }
  } catch (error) {
    process.stdout.write("stopped: " + error.name + ": " + error.message + "\\n");
    process.exit(3);
  }
`;

describe("PostgreSQL stage lock with a holder paused inside a transaction", () => {
  const db = useTestSchema("alchemy_paused_tx");
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("lets the next run take the stage over once the lease has run out, instead of waiting on the row lock", { timeout: 60_000 }, async () => {
    const application = `paused_${process.pid}`;
    const url = `${db.connectionString}?application_name=${application}`;
    const writer = spawn(process.execPath, ["--conditions", "source", "--import", path.join(REPO, "node_modules/tsx/dist/loader.mjs"), "--input-type=module", "-e", WRITER, url, db.schema], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    writer.stdout!.on("data", (chunk: Buffer) => (output += chunk));
    writer.stderr!.on("data", (chunk: Buffer) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => writer.on("exit", resolve));
    cleanups.push(() => writer.kill("SIGKILL"));
    await new Promise<void>((resolve, reject) => {
      writer.stdout!.on("data", (chunk: Buffer) => String(chunk).includes("locked") && resolve());
      writer.on("exit", (code) => reject(new Error(`the writer exited with ${code}: ${output}`)));
    });

    // Pause it until it is caught inside a transaction that holds the lock row.
    const inTransaction = async () =>
      (await db.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'`, [application]))[0]!.n !== "0";
    let caught = false;
    for (let attempt = 0; attempt < 500 && !caught; attempt++) {
      writer.kill("SIGSTOP");
      await sleep(30);
      caught = await inTransaction();
      if (!caught) {
        writer.kill("SIGCONT");
        await sleep(Math.random() * 20);
      }
    }
    expect(caught, "the writer was caught paused inside a transaction").toBe(true);
    cleanups.push(() => writer.kill("SIGCONT"));

    await sleep(LEASE_MS + 500);
    const taker = new PostgresStateStore({ chain: ["app", "dev"] }, db.options());
    cleanups.push(() => taker.deinit());
    const lock = await taker.lock({ holder: currentHolder("taker"), leaseMs: 30_000, timeoutMs: 20_000 });
    cleanups.push(() => lock.release());
    expect(lock.tookOverFrom?.holder.command).toBe("writer");
    expect(await inTransaction()).toBe(false);
    // The new holder writes: its stage is its own.
    await taker.set("after", { status: "created", kind: "test::W", id: "after", fqn: "app/dev/after", seq: 1, data: {}, props: {}, output: {}, deps: [] });
    expect((await taker.get("after"))?.seq).toBe(1);

    // Resumed, the old holder finds its session ended by the server: its write fails with an
    // error it can report (not an unhandled 'error' event that kills the process), and it wrote nothing.
    writer.kill("SIGCONT");
    expect(await exited, output).toBe(3);
    expect(output).toMatch(/^stopped: LockLostError: Lost the lock .* the database ended this run.s session/m);
    expect(output).not.toContain("Unhandled");
    expect((await taker.get("after"))?.seq).toBe(1);
  });
});
