#!/usr/bin/env node
// `npm run bench:locks`: what stage locking costs a store, measured directly
// (the phase benchmark is too noisy to see a few percent): for each store,
// 10,000 concurrent record writes to a stage, with its lock held (every write
// fenced) and without, interleaved, median of BENCH_RUNS (default 7); plus the
// time to take and release the lock.
//
// Run from the repository root: node --import tsx --conditions=source bench/lock-overhead.mjs
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";

const N = Number(process.env.BENCH_LOCK_N ?? "10000");
const RUNS = Number(process.env.BENCH_RUNS ?? "7");
const PG_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const { FileSystemStateStore } = await import("../src/state/fs/fs-state-store.ts");
const { SQLiteStateStore } = await import("../src/state/sqlite/sqlite-state-store.ts");
const { PostgresStateStore } = await import("../src/state/postgres/postgres-state-store.ts");

const holder = { user: "bench", host: os.hostname(), pid: process.pid, command: "bench" };
const record = (stage, id, seq) => ({ status: "created", kind: "bench::Noop", id, fqn: `bench/${stage}/${id}`, seq, data: {}, props: { v: seq }, output: { v: seq }, deps: [] });

async function sample(makeFactory, locked, seq) {
  const { factory, cleanup } = await makeFactory();
  try {
    const stage = `s${seq}`;
    const store = factory({ chain: ["bench", stage] });
    const t0 = performance.now();
    const lock = locked ? await store.lock({ holder, leaseMs: 30_000, timeoutMs: 0 }) : undefined;
    const tLocked = performance.now();
    await store.init?.();
    await Promise.all(Array.from({ length: N }, (_, i) => store.set(`r${i}`, record(stage, `r${i}`, 1))));
    const tWritten = performance.now();
    await store.deinit?.();
    const tClosed = performance.now();
    await lock?.release();
    const tReleased = performance.now();
    return { writes: tWritten - tLocked, lock: tLocked - t0 + (tReleased - tClosed) };
  } finally {
    await cleanup();
  }
}

const stores = {
  fs: async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "alchemy-lock-bench-"));
    return { factory: (scope) => new FileSystemStateStore(scope, { dir }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  sqlite: async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "alchemy-lock-bench-"));
    const filename = path.join(dir, "state.sqlite");
    return { factory: (scope) => new SQLiteStateStore(scope, { filename }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  postgres: async () => {
    const schema = `alchemy_lock_bench_${Math.random().toString(16).slice(2, 10)}`;
    return {
      factory: (scope) => new PostgresStateStore(scope, { connectionString: PG_URL, schema }),
      cleanup: async () => {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    };
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${N} concurrent writes to one stage, median of ${RUNS} (on and off interleaved)\n`);
console.log("| store | writes, lock held (ms) | writes, no lock (ms) | cost of fencing | take + release lock (ms) |");
console.log("|---|---:|---:|---:|---:|");
let seq = 0;
for (const [name, make] of Object.entries(stores)) {
  const on = [];
  const off = [];
  const lock = [];
  for (let run = 0; run < RUNS; run++) {
    const a = await sample(make, true, seq++);
    on.push(a.writes);
    lock.push(a.lock);
    off.push((await sample(make, false, seq++)).writes);
  }
  const cost = (median(on) / median(off) - 1) * 100;
  console.log(`| ${name} | ${median(on).toFixed(0)} | ${median(off).toFixed(0)} | ${cost >= 0 ? "+" : ""}${cost.toFixed(1)} % | ${median(lock).toFixed(1)} |`);
}
