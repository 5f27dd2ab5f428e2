#!/usr/bin/env node
// `npm run bench`: the same no-I/O workload against this engine ("ours") and
// Alchemy 0.94 ("v094", npm alias alchemy-v094), plus the filesystem floor.
//
// For every N (default 1000 and 10000), every run (default 3) and every engine,
// in a fresh temp dir, each phase in its own process:
//   cold deploy         N resources created (v=1)
//   no-op redeploy      the same program again, nothing changes
//   update all          v=2 for every resource
//   orphan-delete half  only the first half of every group is declared (v=2);
//                       the other half is garbage-collected at finalize
//   (untimed redeploy)  back to N resources, so both destroys remove N
//   destroy sequential  phase "destroy", destroyStrategy "sequential"
//   (untimed redeploy)
//   destroy parallel    phase "destroy", destroyStrategy "parallel"
// The state on disk is checked after every phase (exact set of resource fqns
// and their `v`, or nothing left after a destroy); the bench fails loudly if a
// phase did not do its work.
//
// Env:
//   BENCH_N        comma-separated Ns (default "1000,10000")
//   BENCH_RUNS     runs per N and engine, the median is reported (default 3)
//   BENCH_ENGINES  comma-separated subset of "ours,v094" (default both)
//   BENCH_LOADER   "tsx" (default): every child runs `node --import tsx
//                  --conditions=source` (ours from src/*.ts; Alchemy 0.94 is
//                  plain JS but gets the same loader so process start-up costs
//                  the same); "dist": plain `node` for every child, ours from
//                  dist/ (run `npm run build` first)
//   BENCH_TIMEOUT_MS  per-process timeout (default 900000)
//   BENCH_KEEP     "1": keep the temp dirs
// Output: a markdown table per N on stdout, also written to
// bench/results/latest.md, with raw samples in bench/results/latest.json.
import { spawn, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { APP, KIND, STAGE, expectedFqns } from "./workload-shared.mjs";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);

const NS = (process.env.BENCH_N ?? "1000,10000").split(",").map((s) => Number(s.trim()));
const RUNS = Number(process.env.BENCH_RUNS ?? "3");
const LOADER = process.env.BENCH_LOADER ?? "tsx";
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? "900000");
const KEEP = process.env.BENCH_KEEP === "1";
const ENGINES = (process.env.BENCH_ENGINES ?? "ours,v094").split(",").map((s) => s.trim()).filter(Boolean);

for (const n of NS) if (!Number.isInteger(n) || n < 20) throw new Error(`BENCH_N: every N must be an integer >= 20, got ${n}`);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer`);
if (LOADER !== "tsx" && LOADER !== "dist") throw new Error(`BENCH_LOADER must be "tsx" or "dist"`);
for (const e of ENGINES) if (e !== "ours" && e !== "v094") throw new Error(`BENCH_ENGINES: unknown engine ${e}`);

const ENGINE_NAME = { ours: "ours", v094: "Alchemy 0.94" };
const WORKLOAD = { ours: join(BENCH_DIR, "workload-ours.mjs"), v094: join(BENCH_DIR, "workload-v094.mjs") };

if (ENGINES.includes("ours")) {
  const entry = LOADER === "tsx" ? join(ROOT, "src", "index.ts") : join(ROOT, "dist", "index.js");
  if (!existsSync(entry)) {
    throw new Error(
      `bench: our engine's entry ${entry} does not exist` +
        (LOADER === "dist" ? " (run `npm run build` first)" : "") +
        `; set BENCH_ENGINES=v094 to benchmark Alchemy 0.94 alone`,
    );
  }
}

const NODE_ARGS = LOADER === "tsx" ? ["--import", import.meta.resolve("tsx"), "--conditions=source"] : [];

const CHILD_ENV = { ...process.env, ALCHEMY_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", ALCHEMY_CI_STATE_STORE_CHECK: "false" };
// Env Alchemy 0.94 would otherwise read for stage/root/password.
for (const k of ["STAGE", "ALCHEMY_STAGE", "ALCHEMY_ROOT", "ALCHEMY_PASSWORD", "ALCHEMY_TEST_KILL_ON_FINALIZE"]) delete CHILD_ENV[k];

/** The timed phases, in table order. */
const PHASES = ["cold deploy", "no-op redeploy", "update all", "orphan-delete half", "destroy sequential", "destroy parallel"];
const FLOORS = [
  { label: "floor-sync-nofsync", name: "sync calls, one thread, without fsync", mode: "sync", fsync: false },
  { label: "floor-sync-fsync", name: "sync calls, one thread, fsync every file (+ directories)", mode: "sync", fsync: true },
  { label: "floor-async-nofsync", name: "fs.promises, 64 in flight, without fsync", mode: "async", fsync: false },
  { label: "floor-async-fsync", name: "fs.promises, 64 in flight, fsync every file (+ directories)", mode: "async", fsync: true },
];

/** The per-run sequence of processes. */
const STEPS = [
  { label: "cold deploy", op: "deploy", v: 1, timed: true },
  { label: "no-op redeploy", op: "deploy", v: 1, timed: true, noop: true },
  { label: "update all", op: "deploy", v: 2, timed: true },
  { label: "orphan-delete half", op: "deploy", v: 2, half: true, timed: true },
  { label: "redeploy (untimed)", op: "deploy", v: 1, timed: false },
  { label: "destroy sequential", op: "destroy", strategy: "sequential", timed: true },
  { label: "redeploy (untimed)", op: "deploy", v: 1, timed: false },
  { label: "destroy parallel", op: "destroy", strategy: "parallel", timed: true },
];

// Reference Alchemy 0.94 medians at N = 10,000 given in the issue.
const REFERENCE_V094_10K = {
  "cold deploy": 13200,
  "no-op redeploy": 1840,
  "update all": 9100,
  "orphan-delete half": 5500,
  "destroy sequential": 13100,
  "destroy parallel": 7000,
  rssMB: 562,
};

const notes = [];
const log = (msg) => process.stderr.write(`${msg}\n`);

/** Spawns one process; resolves { result, wallMs, stdout, stderr, code }. */
function runProcess(script, env) {
  // Flush dirty pages left by the previous process (untimed), so that one
  // phase's writeback does not land in the next phase's time.
  try {
    execFileSync("sync");
  } catch {}
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let wallMs;
    const child = spawn(process.execPath, [...NODE_ARGS, script], {
      cwd: ROOT,
      env: { ...CHILD_ENV, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[bench] timed out after ${TIMEOUT_MS} ms, killing pid ${child.pid}\n`;
      child.kill("SIGKILL");
    }, TIMEOUT_MS);
    child.on("exit", () => (wallMs = performance.now() - t0));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
      const result = line ? JSON.parse(line.slice("BENCH_RESULT ".length)) : undefined;
      resolve({ result, wallMs: wallMs ?? performance.now() - t0, stdout, stderr, code, signal });
    });
  });
}

/** Walks a stage dir: every *.json file, and the Noop records (by fqn) found in them. */
async function readState(dir) {
  const stageDir = join(dir, ".alchemy", APP, STAGE);
  const files = [];
  async function walk(d) {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (e) {
      if (e.code === "ENOENT") return;
      throw e;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith(".json")) files.push(p);
    }
  }
  await walk(stageDir);
  const records = new Map(); // fqn -> { v, status, file }
  const mtimes = new Map(); // file -> mtimeMs
  let otherFiles = 0;
  const collect = (obj, file, depth) => {
    if (obj === null || typeof obj !== "object" || depth > 4) return 0;
    if (obj.kind === KIND && typeof obj.fqn === "string") {
      if (records.has(obj.fqn)) throw new Error(`state: ${obj.fqn} appears twice (${records.get(obj.fqn).file}, ${file})`);
      records.set(obj.fqn, { v: obj.props?.v, status: obj.status, file });
      return 1;
    }
    let found = 0;
    for (const value of Object.values(obj)) found += collect(value, file, depth + 1);
    return found;
  };
  const CONC = 64;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next < files.length) {
        const file = files[next++];
        const [text, st] = await Promise.all([readFile(file, "utf8"), stat(file)]);
        mtimes.set(file, st.mtimeMs);
        let json;
        try {
          json = JSON.parse(text);
        } catch (e) {
          throw new Error(`state: ${file} is not valid JSON: ${e.message}`);
        }
        if (collect(json, file, 0) === 0) otherFiles++;
      }
    }),
  );
  return { files: files.length, otherFiles, records, mtimes };
}

/** Throws unless the state on disk is what `step` should have left. */
async function verify(engine, n, step, dir, before) {
  const state = await readState(dir);
  if (step.noop && before) {
    // A no-op redeploy should not write state: count files whose mtime changed.
    let rewritten = 0;
    for (const [file, mtime] of state.mtimes) if (before.mtimes.get(file) !== mtime) rewritten++;
    if (rewritten) {
      const msg = `${engine} N=${n} "${step.label}" rewrote ${rewritten} of ${state.files} state files although nothing changed`;
      if (!notes.includes(msg)) notes.push(msg);
    }
  }
  if (step.op === "destroy") {
    if (state.records.size !== 0) {
      const some = [...state.records.keys()].slice(0, 5).join(", ");
      throw new Error(`${engine} N=${n} "${step.label}": ${state.records.size} resources still in state (e.g. ${some})`);
    }
    if (state.files !== 0) {
      const msg = `${engine} N=${n} "${step.label}": ${state.files} non-resource state file(s) left under .alchemy/${APP}/${STAGE}`;
      if (!notes.includes(msg)) notes.push(msg);
    }
    return state;
  }
  const expected = expectedFqns(n, !!step.half);
  const missing = [...expected].filter((f) => !state.records.has(f));
  const extra = [...state.records.keys()].filter((f) => !expected.has(f));
  const wrongV = [...state.records].filter(([, r]) => r.v !== step.v);
  const unstable = [...state.records].filter(([, r]) => r.status !== undefined && r.status !== "created" && r.status !== "updated");
  const problems = [];
  if (missing.length) problems.push(`${missing.length} missing (e.g. ${missing.slice(0, 3).join(", ")})`);
  if (extra.length) problems.push(`${extra.length} unexpected (e.g. ${extra.slice(0, 3).join(", ")})`);
  if (wrongV.length) problems.push(`${wrongV.length} with v != ${step.v} (e.g. ${wrongV.slice(0, 3).map(([f, r]) => `${f}: v=${r.v}`).join(", ")})`);
  if (unstable.length) problems.push(`${unstable.length} not created/updated (e.g. ${unstable.slice(0, 3).map(([f, r]) => `${f}: ${r.status}`).join(", ")})`);
  if (problems.length) {
    throw new Error(`${engine} N=${n} "${step.label}": state is wrong after the phase: ${problems.join("; ")} (expected ${expected.size} resources)`);
  }
  return state;
}

function childFailure(what, p) {
  return new Error(
    `${what}: process exited with code ${p.code}${p.signal ? ` (signal ${p.signal})` : ""}` +
      `${p.result ? "" : ", no BENCH_RESULT line"}\n--- stdout ---\n${p.stdout.slice(-4000)}\n--- stderr ---\n${p.stderr.slice(-4000)}`,
  );
}

function noteStderr(what, p) {
  const text = p.stderr.trim();
  if (text) {
    const msg = `${what} wrote to stderr: ${text.split("\n").slice(0, 5).join(" | ").slice(0, 500)}`;
    notes.push(msg);
    log(`  ! ${msg}`);
  }
}

async function runEngine(engine, n, run, samples) {
  const dir = await mkdtemp(join(os.tmpdir(), `alchemy-bench-${engine}-${n}-`));
  try {
    let before;
    for (const step of STEPS) {
      const what = `${engine} N=${n} run ${run} "${step.label}"`;
      const p = await runProcess(WORKLOAD[engine], {
        BENCH_WL_N: String(n),
        BENCH_WL_OP: step.op,
        BENCH_WL_V: String(step.v ?? 1),
        BENCH_WL_HALF: step.half ? "1" : "0",
        BENCH_WL_DIR: dir,
        BENCH_WL_STRATEGY: step.strategy ?? "sequential",
        BENCH_WL_LABEL: step.label,
      });
      if (p.code !== 0 || !p.result || p.result.ms === null) throw childFailure(what, p);
      noteStderr(what, p);
      const state = await verify(engine, n, step, dir, before);
      before = state;
      const sample = { ms: p.result.ms, wallMs: p.wallMs, maxRssMB: p.result.maxRssMB, cpuMs: p.result.cpuMs };
      log(
        `  ${engine.padEnd(4)} N=${n} run ${run} ${step.label.padEnd(19)} ${fmtMs(sample.ms).padStart(9)} ms ` +
          `(wall ${fmtMs(sample.wallMs)} ms, cpu ${fmtMs(sample.cpuMs)} ms, ${sample.maxRssMB.toFixed(0)} MB)  state: ${state.records.size} resources, ${state.files} files`,
      );
      if (step.timed) samples[engine][step.label].push(sample);
    }
  } finally {
    if (!KEEP) await rm(dir, { recursive: true, force: true });
    else log(`  kept ${dir}`);
  }
}

async function runFloor(n, run, samples) {
  for (const { label, mode, fsync } of FLOORS) {
    const dir = await mkdtemp(join(os.tmpdir(), `alchemy-bench-floor-${n}-`));
    try {
      const p = await runProcess(join(BENCH_DIR, "floor.mjs"), {
        FLOOR_N: String(n),
        FLOOR_DIR: dir,
        FLOOR_FSYNC: fsync ? "1" : "0",
        FLOOR_MODE: mode,
      });
      if (p.code !== 0 || !p.result) throw childFailure(`floor N=${n} ${label}`, p);
      const sample = { ms: p.result.ms, wallMs: p.wallMs, maxRssMB: p.result.maxRssMB, cpuMs: p.result.cpuMs };
      log(`  floor N=${n} run ${run} ${label.padEnd(19)} ${fmtMs(sample.ms).padStart(9)} ms (wall ${fmtMs(sample.wallMs)} ms, cpu ${fmtMs(sample.cpuMs)} ms, ${sample.maxRssMB.toFixed(0)} MB)`);
      samples.floor[label].push(sample);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

// ---------- statistics and formatting ----------

function median(xs) {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
function fmtMs(ms) {
  if (ms === undefined || Number.isNaN(ms)) return "–";
  return ms >= 100 ? Math.round(ms).toLocaleString("en-US") : ms.toFixed(1);
}
const fmtMB = (mb) => (mb === undefined ? "–" : mb.toFixed(0));
const fmtX = (x) => (x === undefined || !Number.isFinite(x) ? "–" : `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`);
const fmtR = (x) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(2));
const fmtN = (n) => n.toLocaleString("en-US");

function summarize(samples) {
  const out = {};
  for (const [who, phases] of Object.entries(samples)) {
    out[who] = {};
    for (const [label, xs] of Object.entries(phases)) {
      if (!xs.length) continue;
      out[who][label] = {
        ms: median(xs.map((x) => x.ms)),
        wallMs: median(xs.map((x) => x.wallMs)),
        maxRssMB: median(xs.map((x) => x.maxRssMB)),
        cpuMs: median(xs.map((x) => x.cpuMs)),
        samples: xs.length,
      };
    }
    const rss = Object.values(out[who]).map((m) => m.maxRssMB);
    if (rss.length) out[who].peakRssMB = Math.max(...rss);
  }
  return out;
}

function tableForN(n, med) {
  const o = med.ours ?? {};
  const t = med.v094 ?? {};
  const ref = n === 10000 && ENGINES.includes("v094");
  const lines = [];
  lines.push(`### N = ${fmtN(n)}`);
  lines.push("");
  lines.push(
    "| phase | ours (ms) | Alchemy 0.94 (ms) | speedup (0.94/ours) | ours wall (ms) | 0.94 wall (ms) | wall speedup | ours peak RSS (MB) | 0.94 peak RSS (MB) | RSS ours/0.94 | ours CPU (ms) | 0.94 CPU (ms) |" +
      (ref ? " 0.94 reference (ms) |" : ""),
  );
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + (ref ? "---:|" : ""));
  for (const ph of PHASES) {
    const a = o[ph];
    const b = t[ph];
    lines.push(
      `| ${ph} | ${fmtMs(a?.ms)} | ${fmtMs(b?.ms)} | ${fmtX(b && a ? b.ms / a.ms : undefined)} | ${fmtMs(a?.wallMs)} | ${fmtMs(b?.wallMs)} | ` +
        `${fmtX(b && a ? b.wallMs / a.wallMs : undefined)} | ${fmtMB(a?.maxRssMB)} | ${fmtMB(b?.maxRssMB)} | ${fmtR(b && a ? a.maxRssMB / b.maxRssMB : undefined)} | ` +
        `${fmtMs(a?.cpuMs)} | ${fmtMs(b?.cpuMs)} |` +
        (ref ? ` ${fmtMs(REFERENCE_V094_10K[ph])} |` : ""),
    );
  }
  lines.push(
    `| **peak RSS, any phase** | | | | | | | **${fmtMB(o.peakRssMB)}** | **${fmtMB(t.peakRssMB)}** | **${fmtR(o.peakRssMB && t.peakRssMB ? o.peakRssMB / t.peakRssMB : undefined)}** | | |` +
      (ref ? ` ${REFERENCE_V094_10K.rssMB} MB |` : ""),
  );
  lines.push("");
  const f = med.floor ?? {};
  lines.push(`Floor on this machine: ${fmtN(n)} atomic file writes (temp file + rename) in the same layout, no engine:`);
  lines.push("");
  lines.push("| floor | ms | wall (ms) | peak RSS (MB) | CPU (ms) |");
  lines.push("|---|---:|---:|---:|---:|");
  for (const { name, label } of FLOORS) {
    lines.push(`| ${name} | ${fmtMs(f[label]?.ms)} | ${fmtMs(f[label]?.wallMs)} | ${fmtMB(f[label]?.maxRssMB)} | ${fmtMs(f[label]?.cpuMs)} |`);
  }
  lines.push("");
  return lines;
}

function growthTable(summary) {
  if (NS.length < 2) return [];
  const lo = Math.min(...NS);
  const hi = Math.max(...NS);
  const limit = 1.2 * (hi / lo);
  const lines = [];
  lines.push(`### Growth N = ${fmtN(hi)} / N = ${fmtN(lo)} (in-process ms; linear is ${hi / lo}, limit ${limit.toFixed(0)})`);
  lines.push("");
  lines.push("| phase | ours | Alchemy 0.94 |");
  lines.push("|---|---:|---:|");
  for (const ph of PHASES) {
    const g = (who) => {
      const a = summary[lo]?.[who]?.[ph]?.ms;
      const b = summary[hi]?.[who]?.[ph]?.ms;
      if (a === undefined || b === undefined) return "–";
      const r = b / a;
      return `${r.toFixed(1)}${who === "ours" ? (r < limit ? " ✅" : " ❌") : ""}`;
    };
    lines.push(`| ${ph} | ${g("ours")} | ${g("v094")} |`);
  }
  lines.push("");
  return lines;
}

function targets(summary) {
  const big = summary[10000];
  if (!big || !big.ours || !big.v094) return [];
  const lines = ["### Targets at N = 10,000 (filesystem store)", ""];
  let allOk = true;
  for (const ph of PHASES) {
    const x = big.v094[ph].ms / big.ours[ph].ms;
    const ok = x >= 3;
    allOk &&= ok;
    lines.push(`- ${ph}: ${fmtX(x)} faster than Alchemy 0.94 (target ≥ 3×) ${ok ? "✅" : "❌"}`);
  }
  const r = big.ours.peakRssMB / big.v094.peakRssMB;
  const rOk = r <= 0.5;
  allOk &&= rOk;
  lines.push(`- peak RSS: ${fmtMB(big.ours.peakRssMB)} MB vs ${fmtMB(big.v094.peakRssMB)} MB = ${fmtR(r)} of Alchemy 0.94 (target ≤ 0.50) ${rOk ? "✅" : "❌"}`);
  if (summary[1000]?.ours) {
    for (const ph of PHASES) {
      const g = big.ours[ph].ms / summary[1000].ours[ph].ms;
      if (!(g < 12)) {
        allOk = false;
        lines.push(`- growth ${ph}: ${g.toFixed(1)} (target < 12) ❌`);
      }
    }
  }
  lines.push("", allOk ? "All targets met." : "Some targets are NOT met.", "");
  return lines;
}

function machine() {
  const cpus = os.cpus();
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "bench"], { cwd: ROOT, encoding: "utf8" }).trim();
    if (dirty) commit += " (+ uncommitted changes in src/ or bench/)";
  } catch {}
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: `${cpus[0]?.model ?? "?"} × ${cpus.length}`,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    tmpdir: os.tmpdir(),
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(" "),
    commit,
  };
}

// ---------- main ----------

const m = machine();
log(`bench: N=${NS.join(",")} runs=${RUNS} engines=${ENGINES.join(",")} loader=${LOADER} (${m.cpu}, ${m.node})`);
const started = performance.now();
const summary = {};
const raw = {};
for (const n of NS) {
  const samples = { floor: Object.fromEntries(FLOORS.map((f) => [f.label, []])) };
  for (const e of ENGINES) samples[e] = Object.fromEntries(PHASES.map((p) => [p, []]));
  for (let run = 1; run <= RUNS; run++) {
    // engines interleaved run by run, so drift on the machine hits both alike
    for (const e of ENGINES) await runEngine(e, n, run, samples);
    await runFloor(n, run, samples);
  }
  raw[n] = samples;
  summary[n] = summarize(samples);
}
const totalS = (performance.now() - started) / 1000;
const loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(" ");

const md = [];
md.push("## Benchmark: ours vs Alchemy 0.94");
md.push("");
md.push(
  `${m.date.slice(0, 10)}, commit ${m.commit}, ${m.cpu}, ${m.memoryGB} GB, ${m.platform}, Node ${m.node}; ` +
    `median of ${RUNS} run(s), each phase its own process; loader: ${LOADER === "tsx" ? "`node --import tsx --conditions=source` for both engines" : "plain `node` for both engines (ours from dist/)"}; ` +
    `state in the default filesystem store under ${m.tmpdir}.`,
);
md.push("");
md.push(
  "Workload: a resource kind whose handler does no I/O (`return { v }`), N resources, half at stage level and half over 10 nested scopes, " +
    "all declared concurrently. *ms* is measured in-process from just before `alchemy(...)` to just after `finalize()` (or to exit: " +
    "Alchemy 0.94 destroys inside `alchemy()` and calls `process.exit`), the speedup columns use it; *wall* is spawn-to-exit of the " +
    "phase's process (includes Node start-up, the loader and module loading); *CPU* is user + system time of the whole process " +
    "(all threads, start-up included: CPU ≈ wall means CPU-bound, CPU ≪ wall means waiting on the disk). *speedup* = Alchemy 0.94 time / our time; " +
    "*RSS ours/0.94* = our peak RSS / theirs (`process.resourceUsage().maxRSS`). Orphan-delete half declares the first half of every group; " +
    "both destroys remove all N resources (an untimed redeploy precedes each).",
);
md.push("");
for (const n of NS) md.push(...tableForN(n, summary[n]));
md.push(...growthTable(summary));
md.push(...targets(summary));
if (notes.length) {
  md.push("Notes:", "", ...[...new Set(notes)].map((x) => `- ${x}`), "");
}
md.push(`Total bench time: ${totalS.toFixed(0)} s; load average at start ${m.loadavg}, at end ${loadEnd} (${os.cpus().length} CPUs; other load on the machine makes the numbers noisy).`);
const text = md.join("\n") + "\n";

await mkdir(join(BENCH_DIR, "results"), { recursive: true });
await writeFile(join(BENCH_DIR, "results", "latest.md"), text);
await writeFile(
  join(BENCH_DIR, "results", "latest.json"),
  JSON.stringify({ machine: { ...m, loadavgEnd: loadEnd }, config: { NS, RUNS, LOADER, ENGINES }, summary, raw, notes, totalS }, null, 2) + "\n",
);
process.stdout.write("\n" + text);
