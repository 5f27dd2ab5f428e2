#!/usr/bin/env node
// `npm run bench:history`: what the stage history costs at N records (default
// 1,000) on the filesystem store: bytes kept per entry (entry JSON and
// snapshot) for the deploy that creates N resources and for one that updates
// 1 of N, and the wall time (median of BENCH_RUNS, default 7) of a no-op
// deploy (which appends nothing) and of a deploy updating 1 of N, with
// history on (historyLimit 100) and off (historyLimit 0). Also the time of
// `state export --at` of the newest run.
//
// Run from the repository root: node --import tsx --conditions=source bench/history.mjs
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const N = Number(process.env.BENCH_HISTORY_N ?? "1000");
const RUNS = Number(process.env.BENCH_RUNS ?? "7");
const { default: alchemy, Resource } = await import("alchemy");
const { FileSystemStateStore } = await import("../src/state/fs/fs-state-store.ts");
const { stageAt } = await import("../src/history/stage-history.ts");

const Thing = Resource("bench::HistoryThing", async function (id, props) {
  if (this.phase === "delete") return this.destroy();
  return { id, value: props.value, url: `https://example.com/${id}` };
});

async function deploy(dir, changed, historyLimit) {
  const started = performance.now();
  const app = await alchemy("bench", { stage: "s", rootDir: dir, quiet: true, historyLimit });
  await Promise.all(Array.from({ length: N }, (_, i) => Thing(`resource-${i}`, { value: i === 0 ? `v${changed}` : "v0", tags: ["bench", `n${i}`] })));
  await app.finalize();
  return performance.now() - started;
}

async function withStage(dir, body) {
  const store = new FileSystemStateStore({ chain: ["bench", "s"] }, { dir: path.join(dir, ".alchemy") });
  await store.init();
  try {
    return await body(store);
  } finally {
    await store.deinit();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = { 0: { noop: [], one: [] }, 100: { noop: [], one: [] } };
let sizes;
let exportMs = [];
for (let run = 0; run < RUNS; run++) {
  for (const limit of [0, 100]) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "alchemy-bench-history-"));
    try {
      await deploy(dir, 0, limit);
      times[limit].noop.push(await deploy(dir, 0, limit));
      times[limit].one.push(await deploy(dir, run + 1, limit));
      if (limit === 100) {
        const listed = await withStage(dir, (store) => store.listHistory());
        const bytes = await withStage(dir, (store) => Promise.all(listed.map(async (e) => ({ entry: JSON.stringify(e.entry).length, snapshot: (await store.getHistorySnapshot(e.run)).length }))));
        sizes = { create: bytes[1], updateOne: bytes[0], entries: listed.length };
        const t = performance.now();
        await withStage(dir, (store) => stageAt(store, listed[0].run));
        exportMs.push(performance.now() - t);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
const ms = (x) => x.toFixed(0);
console.log(`N = ${N}, median of ${RUNS} runs, filesystem store\n`);
console.log("| kept per entry | entry JSON (bytes) | snapshot (bytes, gzip) |");
console.log("|---|---:|---:|");
console.log(`| deploy creating ${N} | ${sizes.create.entry} | ${sizes.create.snapshot} |`);
console.log(`| deploy updating 1 of ${N} | ${sizes.updateOne.entry} | ${sizes.updateOne.snapshot} |`);
console.log("\n| deploy | history off (ms) | history on (ms) | added (ms) |");
console.log("|---|---:|---:|---:|");
for (const [name, key] of [["no-op (appends nothing)", "noop"], [`updating 1 of ${N}`, "one"]]) {
  const off = median(times[0][key]);
  const on = median(times[100][key]);
  console.log(`| ${name} | ${ms(off)} | ${ms(on)} | ${ms(on - off)} |`);
}
console.log(`\nstate export --at the newest run (records read back from the history): ${ms(median(exportMs))} ms`);
