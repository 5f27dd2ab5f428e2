// The floor: what N atomic state-file writes cost on this machine, with no engine.
//
// Writes N files of a typical record's size into the same directory layout the
// workload produces (half in <dir>/s, half over 10 nested directories), every one
// atomically: write a temp file, (optionally) fsync it, rename it into place.
// With fsync, every directory is fsynced once at the end so the renames are
// durable too.
//
// Two ways to issue the syscalls (FLOOR_MODE):
//   "sync"  (default) synchronous fs calls, one after the other on the main
//           thread: the cheapest way on this kind of machine, where handing work
//           to libuv's thread pool costs more than the syscall itself.
//   "async" fs.promises, FLOOR_CONCURRENCY (default 64) writes in flight (the
//           thread pool has 4 threads), i.e. what Alchemy 0.94's store does.
//
// Env: FLOOR_N, FLOOR_DIR, FLOOR_FSYNC ("1" | "0"), FLOOR_MODE, FLOOR_CONCURRENCY.
// Output: one line "BENCH_RESULT {json}" like the workloads.
import fs from "node:fs";
import { open, rename } from "node:fs/promises";
import { join } from "node:path";
import { layout } from "./workload-shared.mjs";

const n = Number(process.env.FLOOR_N);
const dir = process.env.FLOOR_DIR;
const fsync = process.env.FLOOR_FSYNC === "1";
const mode = process.env.FLOOR_MODE ?? "sync";
const CONCURRENCY = Number(process.env.FLOOR_CONCURRENCY ?? "64");
if (!Number.isInteger(n) || n <= 0 || !dir) throw new Error("FLOOR_N and FLOOR_DIR are required");
if (mode !== "sync" && mode !== "async") throw new Error(`FLOOR_MODE must be sync|async, got ${mode}`);

function record(fqn, id) {
  return JSON.stringify(
    { status: "created", kind: "bench::Noop", id, fqn, seq: 1, data: {}, props: { v: 1 }, output: { v: 1 }, deps: [] },
    null,
    2,
  );
}

async function writeAtomicAsync(path, data) {
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

function writeAtomicSync(path, data) {
  const tmp = `${path}.tmp`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeFileSync(fd, data);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}

function syncDir(path) {
  const fd = fs.openSync(path, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const l = layout(n);
const stageDir = join(dir, ".floor", "bench", "s");
const jobs = [
  ...l.stage.map((id) => [join(stageDir, `${id}.json`), `bench/s/${id}`, id]),
  ...l.nested.flatMap((g) => g.ids.map((id) => [join(stageDir, g.scope, `${id}.json`), `bench/s/${g.scope}/${id}`, id])),
];

const t0 = performance.now();
const dirs = [stageDir, ...l.nested.map((g) => join(stageDir, g.scope))];
for (const d of dirs) fs.mkdirSync(d, { recursive: true });
if (mode === "sync") {
  for (const [path, fqn, id] of jobs) writeAtomicSync(path, record(fqn, id));
} else {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [path, fqn, id] = jobs[next++];
      await writeAtomicAsync(path, record(fqn, id));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
}
if (fsync) for (const d of dirs) syncDir(d);
const ms = performance.now() - t0;

const usage = process.resourceUsage();
const result = {
  engine: "floor",
  label: `floor-${mode}-${fsync ? "fsync" : "nofsync"}`,
  n,
  ms,
  maxRssMB: usage.maxRSS / 1024,
  cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
