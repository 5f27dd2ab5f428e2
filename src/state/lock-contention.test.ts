import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CONTENDER_LEASE_MS } from "./lock-contender.test-fixture.js";
import { createTestSchema } from "./postgres/postgres.test-fixture.js";
import { CHILD_AWS_ENV, createTable, freshTable, startDynaliteProcess, storeUrl } from "./dynamodb/dynamodb.test-fixture.js";
import { emulatorEnv, startS3Emulator } from "./s3/s3-emulator.test-fixture.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const fixture = fileURLToPath(new URL("./lock-contender.test-fixture.ts", import.meta.url));

/** A back end to run the contention tests against. */
interface StoreCase {
  name: string;
  /** Makes an empty store and says its URL (as `parseStoreUrl` reads it), and what the contenders' environment needs. */
  setup(): Promise<{ url: string; cleanup(): Promise<void>; env?: NodeJS.ProcessEnv }>;
  /** How soon after its holder is SIGKILLed the lock must be takeable by a new process. */
  takeoverWithinMs: number;
}

const tempStore = (url: (dir: string) => string) => async () => {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "alchemy-lock-contention-"));
  return { url: url(dir), cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }) };
};

const STORE_CASES: StoreCase[] = [
  { name: "file", setup: tempStore((dir) => `file:${dir}`), takeoverWithinMs: 1_000 },
  { name: "sqlite", setup: tempStore((dir) => `sqlite:${path.join(dir, "state.sqlite")}`), takeoverWithinMs: CONTENDER_LEASE_MS + 5_000 },
  {
    name: "postgres",
    setup: async () => {
      const db = await createTestSchema();
      return { url: `${db.connectionString}?schema=${db.schema}`, cleanup: db.drop };
    },
    takeoverWithinMs: CONTENDER_LEASE_MS + 5_000,
  },
  {
    name: "s3",
    setup: async () => {
      const s3 = await startS3Emulator(["state"]);
      return { url: s3.url("state", "contention"), cleanup: s3.stop, env: emulatorEnv() };
    },
    takeoverWithinMs: 5_000,
  },
  {
    name: "dynamodb",
    setup: async () => {
      const dynalite = await startDynaliteProcess();
      const table = freshTable();
      await createTable(dynalite, table); // once here, rather than raced for by eight contenders starting
      return { url: storeUrl(dynalite, table), cleanup: dynalite.close, env: CHILD_AWS_ENV };
    },
    takeoverWithinMs: 5_000,
  },
];

type Reply = { ready: true; pid: number } | { won: true; id: string; tookOverFrom?: string } | { won: false; error: string } | { released: true };

/** A long-lived contender process and its stream of JSON replies. */
class Contender {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  readonly #waiting: ((line: string) => void)[] = [];
  #stderr = "";
  /** Resolves with the exit code and signal once the process has exited (and been reaped). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(url: string, stage: string, env?: NodeJS.ProcessEnv) {
    this.#child = spawn(
      process.execPath,
      ["--conditions", "source", "--import", path.join(repo, "node_modules/tsx/dist/loader.mjs"), fixture, url, "app", stage],
      { cwd: repo, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } },
    );
    let buffered = "";
    this.#child.stdout.on("data", (chunk: Buffer) => {
      const lines = (buffered + chunk.toString()).split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const waiter = this.#waiting.shift();
        if (waiter) waiter(line);
        else this.#lines.push(line);
      }
    });
    this.#child.stderr.on("data", (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.#child.on("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Starts a contender and waits until its store is open. */
  static async start(url: string, stage: string, env?: NodeJS.ProcessEnv): Promise<Contender> {
    const contender = new Contender(url, stage, env);
    expect(await contender.next()).toMatchObject({ ready: true });
    return contender;
  }

  send(command: "lock" | "release" | "exit"): void {
    this.#child.stdin.write(`${command}\n`);
  }

  /** The next reply; rejects if none comes within 60 s (eight processes starting at once on a loaded two-CPU machine took over 15 s) or the process dies first. */
  next(): Promise<Reply> {
    const queued = this.#lines.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued) as Reply);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No reply from contender pid ${this.#child.pid} within 60 s. stderr:\n${this.#stderr}`)), 60_000);
      const died = (info: { code: number | null; signal: NodeJS.Signals | null }) =>
        reject(new Error(`Contender pid ${this.#child.pid} exited (${info.code ?? info.signal}) before replying. stderr:\n${this.#stderr}`));
      void this.exited.then(died);
      this.#waiting.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Reply);
      });
    });
  }

  /** Sends `command` and waits for its reply. */
  async ask(command: "lock" | "release"): Promise<Reply> {
    this.send(command);
    return this.next();
  }

  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Asks the process to exit; kills it if it does not within 5 s. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.send("exit");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Runs `rounds` rounds: every contender is told `lock` back to back, exactly
 * one must win, and the winner releases before the next round.
 * @returns rounds per second and how many rounds each contender won.
 */
async function race(contenders: Contender[], rounds: number): Promise<{ perSecond: number; wins: number[] }> {
  const wins = contenders.map(() => 0);
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (const contender of contenders) contender.send("lock");
    const replies = await Promise.all(contenders.map((c) => c.next()));
    const winners = replies.flatMap((reply, i) => ("won" in reply && reply.won ? [i] : []));
    expect(winners, `round ${round}: ${JSON.stringify(replies)}`).toHaveLength(1);
    for (const reply of replies) {
      if ("won" in reply && !reply.won) expect(reply.error, `round ${round}`).toMatch(/^StageLockedError: State for stage "race" is locked by another process/);
    }
    wins[winners[0]!]++;
    expect(await contenders[winners[0]!]!.ask("release")).toEqual({ released: true });
  }
  return { perSecond: rounds / ((performance.now() - started) / 1000), wins };
}

for (const storeCase of STORE_CASES) {
  describe(`stage locks of the ${storeCase.name} store contended by several processes`, () => {
    let store: { url: string; cleanup(): Promise<void>; env?: NodeJS.ProcessEnv };
    let contenders: Contender[] = [];

    beforeAll(async () => {
      store = await storeCase.setup();
      contenders = await Promise.all(Array.from({ length: 8 }, () => Contender.start(store.url, "race", store.env)));
    });
    afterEach(async () => {
      // A failed round may leave a lock behind: every contender lets go of what it holds.
      await Promise.all(contenders.map((c) => c.ask("release")));
    });
    afterAll(async () => {
      await Promise.all(contenders.map((c) => c.stop()));
      await store?.cleanup();
    });

    it("gives the lock to exactly one of two processes told to lock at the same moment, 100 rounds in a row", { timeout: 240_000 }, async () => {
      const { perSecond, wins } = await race(contenders.slice(0, 2), 100);
      console.log(`${storeCase.name}: 2 processes x 100 rounds, ${perSecond.toFixed(0)} rounds/s, wins ${wins.join("/")}`);
    });

    it("gives the lock to exactly one of eight processes told to lock at the same moment, 200 rounds in a row", { timeout: 240_000 }, async () => {
      const { perSecond, wins } = await race(contenders, 200);
      console.log(`${storeCase.name}: 8 processes x 200 rounds, ${perSecond.toFixed(0)} rounds/s, wins ${wins.join("/")}`);
    });

    it(`lets a new process take the lock of a holder killed with SIGKILL within ${storeCase.takeoverWithinMs / 1000} s`, async () => {
      const [holder, next] = await Promise.all([Contender.start(store.url, "killed", store.env), Contender.start(store.url, "killed", store.env)]);
      try {
        const held = await holder.ask("lock");
        expect(held).toMatchObject({ won: true });
        expect(await next.ask("lock")).toMatchObject({ won: false });

        const killedAt = performance.now();
        holder.kill("SIGKILL");
        expect((await holder.exited).signal).toBe("SIGKILL");
        const reapedAt = performance.now();
        let reply = await next.ask("lock");
        while (!("won" in reply && reply.won) && performance.now() - killedAt < storeCase.takeoverWithinMs) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          reply = await next.ask("lock");
        }
        const tookMs = performance.now() - killedAt;
        console.log(`${storeCase.name}: lock taken over ${tookMs.toFixed(0)} ms after SIGKILL (${(reapedAt - killedAt).toFixed(0)} ms of it until the holder was reaped)`);
        expect(reply).toMatchObject({ won: true, tookOverFrom: (held as { id: string }).id });
        expect(tookMs).toBeLessThan(storeCase.takeoverWithinMs);
        expect(await next.ask("release")).toEqual({ released: true });
      } finally {
        await Promise.all([holder.stop(), next.stop()]);
      }
    });
  });
}
