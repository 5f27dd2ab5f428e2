import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LockCommand } from "./lock-process.test-fixture.js";
import { useTestSchema, type TestSchema } from "./postgres.test-fixture.js";

const repo = path.resolve(import.meta.dirname, "../../..");
const fixture = path.join(import.meta.dirname, "lock-process.test-fixture.ts");
const nodeArgs = ["--import", path.join(repo, "node_modules/tsx/dist/loader.mjs"), "--conditions", "source", fixture];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Reply {
  n: number;
  ok: boolean;
  error?: string;
  message?: string;
  id?: string;
  token?: number;
  tookOverFrom?: string | null;
  ms?: number;
}

/** One child process of `lock-process.test-fixture.ts`, commanded over stdin. */
class LockProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly ready: Promise<number>;
  readonly exited: Promise<number | null>;
  stderr = "";
  #next = 0;
  #waiting = new Map<number, (reply: Reply) => void>();

  constructor(db: TestSchema, readonly name: string, stages: string[]) {
    this.child = spawn(process.execPath, nodeArgs, {
      cwd: repo,
      env: { ...process.env, DATABASE_URL: db.connectionString, SCHEMA: db.schema, APP: "app", NAME: name, STAGES: stages.join(",") },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr.on("data", (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
    let buffered = "";
    this.ready = new Promise((resolve, reject) => {
      this.child.stdout.on("data", (data) => {
        buffered += data;
        for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
          const message = JSON.parse(buffered.slice(0, end)) as Reply & { ready?: boolean; pid?: number };
          buffered = buffered.slice(end + 1);
          if (message.ready) resolve(message.pid!);
          else this.#waiting.get(message.n)?.(message);
        }
      });
      void this.exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready: ${this.stderr}`)));
    });
  }

  /** Sends `command` and resolves its reply; rejects if the process exits first. */
  send(command: Omit<LockCommand, "n">): Promise<Reply> {
    const n = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#waiting.set(n, resolve);
      void this.exited.then((code) => reject(new Error(`${this.name} exited (${code}) without answering ${JSON.stringify(command)}: ${this.stderr}`)));
      this.child.stdin.write(`${JSON.stringify({ ...command, n })}\n`);
    });
  }

  /** Asks the process to release what it holds and exit; resolves its exit code. */
  exit(): Promise<number | null> {
    this.child.stdin.write(`${JSON.stringify({ op: "exit", n: ++this.#next })}\n`);
    return this.exited;
  }
}

describe("PostgresStateStore stage locks across processes", () => {
  const db = useTestSchema();
  const started: LockProcess[] = [];
  const startAll = async (names: string[], stages: (name: string) => string[] = () => ["dev"]) => {
    const processes = names.map((name) => new LockProcess(db, name, stages(name)));
    started.push(...processes);
    await Promise.all(processes.map((p) => p.ready));
    return processes;
  };
  afterEach(async () => {
    for (const p of started.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill("SIGCONT");
        p.child.kill("SIGKILL");
      }
      await p.exited;
    }
  });
  const records = async (scope: string) =>
    (await db.query<{ id: string }>(`SELECT id FROM ${db.schema}.records WHERE scope = $1 ORDER BY id`, [scope])).map((r) => r.id);

  it("gives the lock to exactly one of 8 processes in each of 200 rounds, the fencing token growing by one per round", { timeout: 120_000 }, async () => {
    const processes = await startAll(Array.from({ length: 8 }, (_, i) => `c${i}`), () => ["race"]);
    const wins = new Map<string, number>();
    const ids = new Set<string>();
    const began = performance.now();
    for (let round = 0; round < 200; round++) {
      const at = Date.now() + 15;
      const replies = await Promise.all(processes.map((p) => p.send({ op: "lock", stage: "race", timeoutMs: 0, at })));
      const winners = processes.filter((_, i) => replies[i]!.ok);
      expect(winners.map((w) => w.name), `round ${round}`).toHaveLength(1);
      for (const reply of replies) if (!reply.ok) expect(reply.error, `round ${round}`).toBe("StageLockedError");
      const won = replies.find((r) => r.ok)!;
      expect(won.token, `round ${round}`).toBe(round + 1);
      ids.add(won.id!);
      wins.set(winners[0]!.name, (wins.get(winners[0]!.name) ?? 0) + 1);
      expect((await winners[0]!.send({ op: "release", stage: "race" })).ok).toBe(true);
    }
    const seconds = (performance.now() - began) / 1000;
    console.log(`8 processes x 200 rounds: one winner per round in ${seconds.toFixed(1)} s; wins ${JSON.stringify(Object.fromEntries([...wins].sort()))}`);
    expect(ids.size).toBe(200);
    expect(await db.query(`SELECT id, token::int AS token FROM ${db.schema}.stage_locks`)).toEqual([{ id: null, token: 200 }]);
    expect(await Promise.all(processes.map((p) => p.exit()))).toEqual(processes.map(() => 0));
  });

  it("lets another process take the lock of a SIGKILLed holder of this host at once, reporting whom it took it from", { timeout: 60_000 }, async () => {
    const [holder, next] = await startAll(["holder", "next"]);
    const held = await holder!.send({ op: "lock", leaseMs: 2_000 });
    expect(held.ok).toBe(true);
    holder!.child.kill("SIGKILL");
    await holder!.exited;
    const taken = await next!.send({ op: "lock", leaseMs: 2_000, timeoutMs: 10_000 });
    console.log(`SIGKILLed holder on this host (lease 2 s): lock taken over after ${taken.ms!.toFixed(0)} ms`);
    expect(taken).toMatchObject({ ok: true, tookOverFrom: held.id, token: 2 });
    expect(taken.ms).toBeLessThan(2_000 + 5_000);
  });

  it("lets another process take the lock of a SIGKILLed holder of another host once its 2 s lease has run out", { timeout: 60_000 }, async () => {
    const [holder, next] = await startAll(["remote-holder", "next"]);
    const held = await holder!.send({ op: "lock", leaseMs: 2_000, host: "another-host" });
    const lockedAt = Date.now();
    holder!.child.kill("SIGKILL");
    await holder!.exited;
    expect((await next!.send({ op: "lock", timeoutMs: 0 })).error).toBe("StageLockedError");
    const taken = await next!.send({ op: "lock", leaseMs: 2_000, timeoutMs: 10_000 });
    const after = Date.now() - lockedAt;
    console.log(`SIGKILLed holder of another host (lease 2 s): lock taken over ${after} ms after it was taken`);
    expect(taken).toMatchObject({ ok: true, tookOverFrom: held.id });
    expect(after).toBeGreaterThanOrEqual(1_900);
    expect(after).toBeLessThan(2_000 + 5_000);
  });

  it("fences off a holder paused past its lease: once resumed, its next write is refused with LockLostError and it exits non-zero, while the new holder's writes succeed", { timeout: 60_000 }, async () => {
    const [stale, fresh] = await startAll(["stale", "fresh"]);
    const first = await stale!.send({ op: "lock", leaseMs: 1_500 });
    expect(first.ok).toBe(true);
    expect(await stale!.send({ op: "write", ids: ["a1", "a2"] })).toMatchObject({ ok: true });

    stale!.child.kill("SIGSTOP");
    await sleep(2_000); // the lease runs out; the process is alive, so only the lease makes it stale
    const taken = await fresh!.send({ op: "lock", leaseMs: 30_000, timeoutMs: 0 });
    expect(taken).toMatchObject({ ok: true, tookOverFrom: first.id, token: 2 });
    expect(await fresh!.send({ op: "write", ids: ["b1"] })).toMatchObject({ ok: true });

    stale!.child.kill("SIGCONT");
    const refused = await stale!.send({ op: "write", ids: ["a3"] });
    expect(refused).toMatchObject({ ok: false, error: "LockLostError" });
    expect(refused.message).toContain(`Lost the lock ${first.id} on stage "dev" (app/dev): `);
    expect(refused.message).toContain(`(lock-process fresh) holds it now (lock id ${taken.id})`);
    expect(await stale!.exited).toBe(3);

    expect(await fresh!.send({ op: "write", ids: ["b2"] })).toMatchObject({ ok: true });
    expect(await fresh!.send({ op: "heartbeat" })).toMatchObject({ ok: true });
    expect(await records("app/dev")).toEqual(["a1", "a2", "b1", "b2"]);
    expect(await records("app/dev/nested")).toEqual(["a1", "a2", "b1", "b2"]);
    const [row] = await db.query<{ body: string }>(`SELECT body FROM ${db.schema}.records WHERE scope = 'app/dev' AND id = 'b2'`);
    expect(JSON.parse(row!.body).data).toEqual({ writer: "fresh" });
  });

  it("never makes 20 processes locking and writing 20 different stages of one schema wait on each other", { timeout: 120_000 }, async () => {
    const names = Array.from({ length: 20 }, (_, i) => `s${i}`);
    const processes = await startAll(names, (name) => [name]);
    const at = Date.now() + 100;
    const results = await Promise.all(
      processes.map(async (p) => {
        const lock = await p.send({ op: "lock", timeoutMs: 0, at });
        const began = performance.now();
        const write = await p.send({ op: "write", ids: Array.from({ length: 25 }, (_, i) => `r${i}`) });
        const writeMs = performance.now() - began;
        const release = await p.send({ op: "release" });
        return { lock, write, release, writeMs };
      }),
    );
    const lockMs = results.map((r) => r.lock.ms!).sort((a, b) => a - b);
    const writeMs = results.map((r) => r.writeMs).sort((a, b) => a - b);
    const summary = (ms: number[]) => `min ${ms[0]!.toFixed(0)} / median ${ms[10]!.toFixed(0)} / max ${ms[19]!.toFixed(0)} ms`;
    console.log(`20 stages locked at once by 20 processes: lock ${summary(lockMs)}; 50 fenced writes each ${summary(writeMs)}`);
    for (const r of results) expect([r.lock.ok, r.write.ok, r.release.ok], JSON.stringify(r)).toEqual([true, true, true]);
    expect(lockMs[19]).toBeLessThan(1_000);
    const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${db.schema}.records`);
    expect(rows).toEqual([{ n: 20 * 50 }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM ${db.schema}.stage_locks WHERE id IS NULL AND token = 1`)).toEqual([{ n: 20 }]);
  });
});
