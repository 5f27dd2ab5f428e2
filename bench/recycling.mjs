#!/usr/bin/env node
// `npm run bench:recycling`: what recycling the files of replaced records (src/state/fs/spare-files.ts)
// buys on this machine's disk. One run: a cold deploy of N resources (untimed), then "update all"
// twice (v=2, v=3; each timed), on the default filesystem store with recycling on and off,
// interleaved (on/off order alternating), each phase its own process (bench/workload-ours.mjs).
// Reports the medians of BENCH_RUNS runs and the ratio off/on.
//
//   BENCH_N=10000 BENCH_RUNS=5 npm run bench:recycling      (uses dist/: run `npm run build` first)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
const N = Number(process.env.BENCH_N ?? "10000");
const RUNS = Number(process.env.BENCH_RUNS ?? "5");
const workload = path.join(ROOT, "bench/workload-ours.mjs");

function phase(dir, recycle, op, v, label) {
  execFileSync("sync");
  const result = spawnSync(process.execPath, [workload], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, BENCH_WL_N: String(N), BENCH_WL_DIR: dir, BENCH_WL_STORE: "fs", BENCH_WL_FS_RECYCLE: recycle, BENCH_WL_OP: op, BENCH_WL_V: String(v), BENCH_WL_HALF: "0", BENCH_WL_LABEL: label },
  });
  const line = result.stdout.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
  if (result.status !== 0 || !line) throw new Error(`${label} (recycling ${recycle}) failed:\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(line.slice("BENCH_RESULT ".length)).ms;
}

const samples = { on: { first: [], second: [] }, off: { first: [], second: [] } };
for (let run = 0; run < RUNS; run++) {
  for (const recycle of run % 2 === 0 ? ["on", "off"] : ["off", "on"]) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `bench-recycling-${recycle}-`));
    try {
      phase(dir, recycle, "deploy", 1, "cold deploy");
      samples[recycle].first.push(phase(dir, recycle, "deploy", 2, "update all"));
      samples[recycle].second.push(phase(dir, recycle, "deploy", 3, "update all again"));
      process.stderr.write(`run ${run + 1} recycling ${recycle}: update all ${samples[recycle].first.at(-1).toFixed(0)} ms, again ${samples[recycle].second.at(-1).toFixed(0)} ms\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\nUpdate all of N=${N} on the filesystem store, median of ${RUNS} (ms):\n`);
console.log("| phase | recycling on | recycling off | off / on |");
console.log("|---|---|---|---|");
for (const [key, name] of [["first", "update all (v=2)"], ["second", "update all again (v=3)"]]) {
  const on = median(samples.on[key]);
  const off = median(samples.off[key]);
  console.log(`| ${name} | ${on.toFixed(0)} | ${off.toFixed(0)} | ${(off / on).toFixed(2)}x |`);
}
