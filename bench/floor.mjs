// The floor: what N atomic state-file writes cost on this machine, with no engine.
//
// Writes N files of a typical record's size into the same directory layout the
// workload produces (half in <dir>/s, half over 10 nested directories), every one
// atomically: write a temp file, (optionally) fsync it, rename it into place.
// With fsync, every directory is fsynced once at the end so the renames are
// durable too. Writes are issued FLOOR_CONCURRENCY (default 64) at a time; libuv's
// thread pool (4 threads) bounds the real parallelism anyway, and issuing all N
// at once is no faster, only bigger.
//
// Env: FLOOR_N, FLOOR_DIR, FLOOR_FSYNC ("1" | "0").
// Output: one line "BENCH_RESULT {json}" like the workloads.
import { mkdir, open, rename } from "node:fs/promises";
import { join } from "node:path";
import { layout } from "./workload-shared.mjs";

const n = Number(process.env.FLOOR_N);
const dir = process.env.FLOOR_DIR;
const fsync = process.env.FLOOR_FSYNC === "1";
const CONCURRENCY = Number(process.env.FLOOR_CONCURRENCY ?? "64");
if (!Number.isInteger(n) || n <= 0 || !dir) throw new Error("FLOOR_N and FLOOR_DIR are required");

function record(fqn, id) {
  return JSON.stringify(
    { status: "created", kind: "bench::Noop", id, fqn, seq: 1, data: {}, props: { v: 1 }, output: { v: 1 }, deps: [] },
    null,
    2,
  );
}

async function writeAtomic(path, data) {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    if (fsync) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

async function syncDir(path) {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const l = layout(n);
const stageDir = join(dir, ".floor", "bench", "s");

const t0 = performance.now();
const dirs = [stageDir, ...l.nested.map((g) => join(stageDir, g.scope))];
for (const d of dirs) await mkdir(d, { recursive: true });
const jobs = [
  ...l.stage.map((id) => [join(stageDir, `${id}.json`), `bench/s/${id}`, id]),
  ...l.nested.flatMap((g) => g.ids.map((id) => [join(stageDir, g.scope, `${id}.json`), `bench/s/${g.scope}/${id}`, id])),
];
// CONCURRENCY writes in flight at a time (all N at once only adds memory, not speed).
let next = 0;
async function worker() {
  while (next < jobs.length) {
    const [path, fqn, id] = jobs[next++];
    await writeAtomic(path, record(fqn, id));
  }
}
await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
if (fsync) await Promise.all(dirs.map(syncDir));
const ms = performance.now() - t0;

const result = {
  engine: "floor",
  label: fsync ? "floor-fsync" : "floor-nofsync",
  n,
  ms,
  maxRssMB: process.resourceUsage().maxRSS / 1024,
  cpuMs: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1000,
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
