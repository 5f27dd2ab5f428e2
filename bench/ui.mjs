#!/usr/bin/env node
// `npm run bench:ui`: what `alchemy ui` costs on a stage of N records (default
// 1,000 and 10,000; BENCH_UI_N=1000,10000) on the filesystem and SQLite stores:
// the wall time (median of BENCH_RUNS, default 5) of each API answer the page
// asks for, and of one poll of a watched stage (what a live page costs the
// server every 400 ms), against the baseline of reading the stage's records
// through the store (the least any reader of the stage does).
//
// Run from the repository root: node --import tsx --conditions=source bench/ui.mjs
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const SIZES = (process.env.BENCH_UI_N ?? "1000,10000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? "5");
const STORES = (process.env.BENCH_STORES ?? "fs,sqlite").split(",");
const { default: alchemy, Resource } = await import("alchemy");
const { StateSession } = await import("../src/cli/state-access.ts");
const { storeFactory, parseStoreUrl } = await import("../src/state/store-url.ts");
const { startUiServer } = await import("../src/ui/ui-server.ts");
const { stageFingerprint } = await import("../src/ui/ui-data.ts");

const Thing = Resource("bench::UiThing", async function (id, props) {
  if (this.phase === "delete") return this.destroy();
  return { id, url: `https://example.com/${id}`, uses: props.uses?.id ?? null };
});

/** N records: a root, then N - 1 things in 10 nested scopes, every tenth using the root. */
async function deploy(dir, n, stateStore) {
  const app = await alchemy("bench", { stage: "s", rootDir: dir, quiet: true, ...(stateStore ? { stateStore } : {}) });
  const root = await Thing("root", {});
  await Promise.all(Array.from({ length: 10 }, (_, s) =>
    alchemy.run(`part-${s}`, () => Promise.all(Array.from({ length: Math.ceil((n - 1) / 10) }, (_, i) => i * 10 + s < n - 1 && Thing(`thing-${i}`, { tag: `t${i}`, uses: i % 10 === 0 ? root : undefined }))))));
  await app.finalize();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timeIt(body) {
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await body();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

const rows = [];
for (const store of STORES) {
  for (const n of SIZES) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "alchemy-bench-ui-"));
    try {
      const url = store === "sqlite" ? "sqlite:state.sqlite" : "file:.alchemy";
      const location = parseStoreUrl(url, dir);
      await deploy(dir, n, store === "sqlite" ? storeFactory(location) : undefined);
      const session = new StateSession(location, storeFactory(location));
      const access = { profile: "default", mappings: [] };
      const ui = await startUiServer({ session, access, port: 0, token: "bench" });
      const get = async (p) => {
        const res = await fetch(`http://127.0.0.1:${ui.port}${p}`, { headers: { "x-alchemy-token": "bench" } });
        if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
        return res.text();
      };
      try {
        const walk = await timeIt(() => session.walk(["bench", "s"]));
        const poll = await timeIt(() => stageFingerprint(session, "bench", "s", access));
        const stage = await timeIt(() => get("/api/stage?app=bench&stage=s"));
        const resource = await timeIt(() => get("/api/resource?fqn=bench/s/part-3/thing-7"));
        const history = await timeIt(() => get("/api/history?app=bench&stage=s"));
        const overview = await timeIt(() => get("/api/overview"));
        const graph = await timeIt(() => get("/api/graph?app=bench&stage=s"));
        const bytes = (await get("/api/stage?app=bench&stage=s")).length;
        rows.push({ store, n, walk, poll, stage, resource, history, overview, graph, bytes });
        console.error(`${store} N=${n}: walk ${walk.toFixed(0)} ms, poll ${poll.toFixed(0)} ms, stage ${stage.toFixed(0)} ms, graph ${graph.toFixed(0)} ms`);
      } finally {
        await ui.close();
        await session.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const f = (ms) => ms.toFixed(ms < 10 ? 1 : 0);
console.log(`\n| store | N | read the stage (baseline) ms | poll of a watched stage ms (x baseline) | /api/stage ms (KB) | /api/resource ms | /api/history ms | /api/overview ms | /api/graph ms |`);
console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|`);
for (const r of rows) {
  console.log(`| ${r.store} | ${r.n.toLocaleString("en")} | ${f(r.walk)} | ${f(r.poll)} (${(r.poll / r.walk).toFixed(2)}x) | ${f(r.stage)} (${Math.round(r.bytes / 1024)}) | ${f(r.resource)} | ${f(r.history)} | ${f(r.overview)} | ${f(r.graph)} |`);
}
console.log(`\nmedian of ${RUNS} runs each; node ${process.version}; ${os.cpus().length} CPUs; load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
