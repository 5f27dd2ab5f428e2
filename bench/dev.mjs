#!/usr/bin/env node
// `npm run bench:dev`: how fast `alchemy dev` serves a program's Workers locally, and
// how fast an edit of a Worker's source is served, against `wrangler dev` on the same
// Worker as a baseline. Uses the build: run `npm run build` first.
//
// Per run (BENCH_RUNS, default 5), for N = 1 and N = 10 Workers (a generated program:
// N Workers, each with a tiny TypeScript script and a KV namespace of its own bound as
// KV, declared one by one in a for loop and, for N > 1, also all at once; see
// bench/dev/project.mjs), in a fresh temp project (node_modules/alchemy linked to this
// repository):
//   first 200          `node dist/cli/main.js dev` is spawned; the clock runs from the
//                      spawn until every Worker printed as `Ready: <fqn> on <url>`
//                      answered 200 with its text (each URL polled every 10 ms from
//                      the moment its Ready line arrives)
//   edit-to-response   BENCH_DEV_EDITS (10) edits, one Worker's script rewritten each
//                      time (Worker k mod N) to answer a new text; the clock runs from
//                      the write until its URL (polled every 10 ms, a fresh connection
//                      each time) answers the new text. The run the edit started is
//                      waited for, and BENCH_DEV_QUIET_MS (300) without output, before
//                      the next edit. A run's value is the median of its edits.
//   stop               SIGINT; dev must exit 0 within 20 s and leave no process behind
// and, for N = 1 in the same run, `wrangler dev --local` (wrangler from the Alchemy 0.94
// install, bench/v094; installed on first use) on the same script with a wrangler.toml
// (name, main, compatibility_date, the KV namespace): first 200 polled from the spawn on
// a free port, and the same edits. Reported: the median over runs.
//
// Env:
//   BENCH_RUNS            runs (default 5)
//   BENCH_DEV_N           comma-separated Worker counts (default "1,10")
//   BENCH_DEV_EDITS       edits per run (default 10)
//   BENCH_DEV_WRANGLER    "0" skips the wrangler baseline (default "1")
//   BENCH_DEV_DECLARE     how the program declares its Workers, comma-separated:
//                         "sequential" (a for loop awaiting each KV namespace and Worker,
//                         the usual way to write it) and/or "concurrent" (every pair at
//                         once, Promise.all). Default "sequential,concurrent"; with N = 1
//                         both are the same program, run once (as "sequential")
//   BENCH_DEV_TRACE       "1": dev runs with bench/dev/trace.mjs preloaded, which times
//                         Miniflare's and esbuild's loading and calls; adds a breakdown
//                         table (the wrappers cost next to nothing, but the default run
//                         is the one without them)
//   BENCH_DEV_TIMEOUT_MS  limit for a first 200 or an edit (default 60000)
//   BENCH_DEV_QUIET_MS    quiet time after an edit's run before the next edit (default 300)
//   BENCH_OUT             base name of the result files (default "dev")
//   BENCH_KEEP            "1" keeps the temp projects
// Output: the table on stdout, also bench/results/<BENCH_OUT>.md, and every sample in
// bench/results/<BENCH_OUT>.json. Progress goes to stderr. Exit code 1 when a run failed
// or dev did not stop cleanly (targets missed do not change the exit code).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { APP, initialText, scriptPath, workerIndex, workerSource, writeAlchemyProject, writeWranglerProject } from "./dev/project.mjs";
import { freePort, killGroup, live, now, pollUntil, sleep, startChild, stopChild, waitFor, waitQuiet } from "./dev/procs.mjs";
import { machine } from "./machine.mjs";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const MAIN = path.join(ROOT, "dist", "cli", "main.js");
const TRACE_PRELOAD = pathToFileURL(path.join(BENCH_DIR, "dev", "trace.mjs")).href;
const WRANGLER = path.join(BENCH_DIR, "v094", "node_modules", ".bin", "wrangler");

const int = (name, dflt, min = 1) => {
  const v = Number(process.env[name] ?? String(dflt));
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got ${process.env[name]}`);
  return v;
};
const RUNS = int("BENCH_RUNS", 5);
const NS = (process.env.BENCH_DEV_N ?? "1,10").split(",").map((s) => Number(s.trim()));
for (const n of NS) if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_DEV_N: every N must be a positive integer, got ${n}`);
const EDITS = int("BENCH_DEV_EDITS", 10);
const WITH_WRANGLER = process.env.BENCH_DEV_WRANGLER !== "0";
const DECLARES = (process.env.BENCH_DEV_DECLARE ?? "sequential,concurrent").split(",").map((s) => s.trim());
for (const d of DECLARES) if (d !== "sequential" && d !== "concurrent") throw new Error(`BENCH_DEV_DECLARE: "sequential" and/or "concurrent", got ${d}`);
/** What runs of ours: every N with every way of declaring (N = 1 once). */
const VARIANTS = NS.flatMap((n) =>
  (n === 1 ? [DECLARES.includes("sequential") ? "sequential" : DECLARES[0]] : DECLARES).map((declare) => ({
    key: `ours:${n}:${declare}`,
    n,
    declare,
    label: `${n} Worker${n > 1 ? "s" : ""}${n > 1 && DECLARES.length > 1 ? (declare === "sequential" ? ", declared one by one" : ", declared concurrently") : ""}`,
  })),
);
const TRACE = process.env.BENCH_DEV_TRACE === "1";
const TIMEOUT_MS = int("BENCH_DEV_TIMEOUT_MS", 60_000);
const QUIET_MS = int("BENCH_DEV_QUIET_MS", 300, 0);
const OUT = process.env.BENCH_OUT ?? "dev";
if (!/^[\w.-]+$/.test(OUT)) throw new Error(`BENCH_OUT must be a plain file name, got ${OUT}`);
const KEEP = process.env.BENCH_KEEP === "1";
/** The Workers' compatibility date, for both tools. */
const COMPATIBILITY_DATE = "2026-04-01";
const POLL_MS = 10;
const STOP_TIMEOUT_MS = 20_000;
const TARGETS = { first200: { 1: 3000, 10: 6000 }, edit: 500 };

const log = (msg) => process.stderr.write(`${msg}\n`);
const notes = [];
const note = (msg) => {
  if (!notes.includes(msg)) notes.push(msg);
  log(`bench:dev: ${msg}`);
};
let failed = false;

// ---------- cleanup, even when the bench itself is interrupted ----------

const temps = new Set();
function removeTemp(dir) {
  temps.delete(dir);
  if (!KEEP) rmSync(dir, { recursive: true, force: true });
}
function abort(signal) {
  log(`bench:dev: ${signal}: killing ${live.size} child process group(s) and removing ${temps.size} temp dir(s)`);
  for (const proc of live) killGroup(proc);
  for (const dir of [...temps]) removeTemp(dir);
  process.exit(130);
}
process.once("SIGINT", () => abort("SIGINT"));
process.once("SIGTERM", () => abort("SIGTERM"));

// ---------- environment ----------

/** The environment without what would point either tool at an account, a stage or a state store. */
function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(ALCHEMY_|CLOUDFLARE_|CF_|WRANGLER_|MINIFLARE_)/.test(k) || k === "STAGE" || k === "NODE_OPTIONS") delete env[k];
  }
  return env;
}
const DEV_ENV = { ...cleanEnv(), ALCHEMY_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" };
/**
 * wrangler offline: no token (it never asks for one with --local), no metrics, no
 * update check (it is made for the banner, so the banner goes), no fetch of the
 * `Request.cf` object from workers.cloudflare.com (ours runs Miniflare with `cf: false`).
 */
const wranglerEnv = (dir) => ({
  ...cleanEnv(),
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  DO_NOT_TRACK: "1",
  XDG_CONFIG_HOME: path.join(dir, ".config"), // wrangler's logs and settings, removed with the project
});

// ---------- helpers ----------

const median = (xs) => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quantile = (xs, q) => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const r1 = (x) => (x === undefined ? undefined : Math.round(x * 10) / 10);

/** A dev run's summary line: `created 2, updated 0, deleted 0, unchanged 0 in 1.5s` or `No changes: 2 unchanged in 0.0s`. */
const SUMMARY = /^(?:created \d+, updated \d+, deleted \d+, unchanged \d+|No changes: .*) in ([\d.]+)s$/;
const READY = /^Ready: (\S+) on (http:\/\/\S+)$/;
const summaries = (proc) => proc.lines.filter((l) => SUMMARY.test(l.text));

function readTrace(file) {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

// ---------- alchemy dev ----------

/** One run of `alchemy dev` on N Workers: first 200, the edits, the stop. */
async function runOurs({ n, declare }, run) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-dev-ours-${n}-`));
  temps.add(dir);
  writeAlchemyProject(dir, ROOT, n, declare);
  // The compatibility date wrangler gets too (ours would otherwise take its default).
  const programFile = path.join(dir, "alchemy.run.ts");
  writeFileSync(programFile, readFileSync(programFile, "utf8").replace("bindings: { KV: kv }", `bindings: { KV: kv }, compatibilityDate: ${JSON.stringify(COMPATIBILITY_DATE)}`));
  const traceFile = TRACE ? path.join(os.tmpdir(), `bench-dev-trace-${process.pid}-${n}-${run}.jsonl`) : undefined;
  const sample = { tool: "ours", n, declare, run, edits: [] };
  const proc = startChild(process.execPath, [...(TRACE ? ["--import", TRACE_PRELOAD] : []), MAIN, "dev"], {
    cwd: dir,
    env: { ...DEV_ENV, ...(traceFile ? { BENCH_DEV_TRACE_FILE: traceFile } : {}) },
    name: `alchemy dev (N=${n} ${declare}, run ${run})`,
  });
  const t0 = proc.startedAt;
  try {
    // first 200 from every Worker, each polled from the moment its Ready line arrives
    const urls = new Map(); // i -> { url, t }
    const polls = [];
    let seen = 0;
    await waitFor(
      proc,
      () => {
        for (; seen < proc.lines.length; seen++) {
          const m = READY.exec(proc.lines[seen].text);
          if (!m) continue;
          const i = workerIndex(m[1]);
          if (i === undefined || urls.has(i)) continue;
          urls.set(i, { url: m[2], t: proc.lines[seen].t });
          polls.push(pollUntil(m[2], initialText(i), { everyMs: POLL_MS, timeoutMs: TIMEOUT_MS, proc, what: `Worker w-${i}'s first 200` }));
        }
        return urls.size === n;
      },
      { timeoutMs: TIMEOUT_MS, what: `a Ready line for each of the ${n} Worker(s)` },
    );
    const answers = await Promise.all(polls);
    sample.first200Ms = Math.max(...answers.map((a) => a.t)) - t0;
    sample.readyMs = Math.max(...[...urls.values()].map((u) => u.t)) - t0;
    sample.firstOutputMs = proc.lines[0].t - t0;
    const first = summaries(proc)[0];
    sample.firstRunReportedMs = first ? Number(SUMMARY.exec(first.text)[1]) * 1000 : undefined;
    sample.firstRunSummaryMs = first ? first.t - t0 : undefined;
    sample.urls = Object.fromEntries([...urls].map(([i, u]) => [i, u.url]));
    log(
      `  ours N=${n} ${declare} run ${run}: first 200 from all ${n} after ${sample.first200Ms.toFixed(0)} ms ` +
        `(first output ${sample.firstOutputMs.toFixed(0)}, run summary ${sample.firstRunSummaryMs?.toFixed(0)} ms "in ${(sample.firstRunReportedMs / 1000).toFixed(1)}s", Ready ${sample.readyMs.toFixed(0)})`,
    );
    await waitFor(proc, () => proc.lines.some((l) => l.text.startsWith("Watching ")), { timeoutMs: TIMEOUT_MS, what: "the Watching line" });
    await waitQuiet(proc, QUIET_MS);

    // edits
    const current = new Map([...urls.keys()].map((i) => [i, initialText(i)]));
    for (let k = 1; k <= EDITS; k++) {
      const i = (k - 1) % n;
      const text = `w${i} edit ${k}`;
      const before = summaries(proc).length;
      const linesBefore = proc.lines.length;
      const tEdit = now();
      writeFileSync(path.join(dir, scriptPath(i)), workerSource(text));
      const answer = await pollUntil(urls.get(i).url, text, { everyMs: POLL_MS, timeoutMs: TIMEOUT_MS, proc, what: `edit ${k} of Worker w-${i}` });
      current.set(i, text);
      const ms = answer.t - tEdit;
      await waitFor(proc, () => summaries(proc).length > before, { timeoutMs: TIMEOUT_MS, what: `the summary of edit ${k}'s run` });
      await waitQuiet(proc, QUIET_MS);
      const after = proc.lines.slice(linesBefore);
      const changeSeen = after.find((l) => l.text.startsWith("Change seen"));
      const summary = after.find((l) => SUMMARY.test(l.text));
      sample.edits.push({
        k,
        worker: i,
        ms,
        polls: answer.polls,
        changeSeenMs: changeSeen ? changeSeen.t - tEdit : undefined,
        summaryMs: summary ? summary.t - tEdit : undefined,
        reportedMs: summary ? Number(SUMMARY.exec(summary.text)[1]) * 1000 : undefined,
        runs: summaries(proc).length - before,
        tEdit,
      });
    }
    // every Worker still answers what it should (an edit of one must not break another)
    for (const [i, text] of current) {
      await pollUntil(urls.get(i).url, text, { everyMs: POLL_MS, timeoutMs: 5000, proc, what: `Worker w-${i} after the edits` });
    }
    sample.editMedianMs = median(sample.edits.map((e) => e.ms));
    const extraRuns = sample.edits.filter((e) => e.runs !== 1);
    if (extraRuns.length) note(`ours N=${n} ${declare}: ${extraRuns.length} edit(s) started ${extraRuns.map((e) => e.runs).join("/")} runs instead of 1`);
    log(
      `  ours N=${n} ${declare} run ${run}: edit-to-response median ${sample.editMedianMs.toFixed(0)} ms ` +
        `(${sample.edits.map((e) => e.ms.toFixed(0)).join(", ")}; "Change seen" after ${median(sample.edits.map((e) => e.changeSeenMs ?? NaN)).toFixed(0)} ms)`,
    );
  } catch (error) {
    sample.error = error instanceof Error ? error.message : String(error);
    failed = true;
    note(`ours N=${n} ${declare} run ${run} failed: ${sample.error.split("\n")[0]}`);
    log(sample.error);
  } finally {
    const stopped = await stopChild(proc, "SIGINT", STOP_TIMEOUT_MS);
    const stoppedLine = proc.lines.some((l) => l.text.startsWith("Stopped:"));
    sample.stop = { ...stopped, stoppedLine };
    const ok = stopped.code === 0 && !stopped.forced && !stopped.alreadyExited && stopped.leftovers.length === 0 && stoppedLine;
    sample.stop.ok = ok;
    if (!ok) {
      failed = true;
      note(
        `ours N=${n} ${declare} run ${run}: dev did not stop cleanly on SIGINT: exit ${stopped.code ?? stopped.signal}` +
          `${stopped.forced ? ", killed after 20 s" : ""}${stopped.alreadyExited ? ", it had exited before" : ""}` +
          `${stopped.leftovers.length ? `, left ${stopped.leftovers.join(", ")} (killed)` : ""}${stoppedLine ? "" : ", no 'Stopped:' line"}`,
      );
    }
    const stderrOther = proc.lines.filter((l) => l.stream === "stderr" && /error|warn/i.test(l.text)).map((l) => l.text);
    if (stderrOther.length) sample.stderrNotable = stderrOther.slice(0, 20);
    if (traceFile) {
      sample.trace = readTrace(traceFile).map((e) => ({ ...e, t: e.t - t0, ...(e.origin ? { origin: e.origin - t0 } : {}) }));
      rmSync(traceFile, { force: true });
    }
    log(`  ours N=${n} ${declare} run ${run}: stopped in ${stopped.ms.toFixed(0)} ms, exit ${stopped.code ?? stopped.signal}${ok ? "" : " (NOT clean)"}`);
    removeTemp(dir);
  }
  return sample;
}

// ---------- wrangler dev ----------

let wranglerUnavailable; // why the baseline cannot run here
let wranglerVersion;

function prepareWrangler() {
  if (!WITH_WRANGLER) {
    wranglerUnavailable = "skipped (BENCH_DEV_WRANGLER=0)";
    return;
  }
  try {
    if (!existsSync(WRANGLER)) {
      log("bench:dev: wrangler is not installed yet: installing the Alchemy 0.94 baseline (scripts/bench-install.mjs), which brings it");
      execFileSync(process.execPath, [path.join(ROOT, "scripts", "bench-install.mjs")], { stdio: ["ignore", "ignore", "inherit"] });
    }
    if (!existsSync(WRANGLER)) throw new Error(`${WRANGLER} is missing after installing the baseline`);
    wranglerVersion = JSON.parse(readFileSync(path.join(BENCH_DIR, "v094", "node_modules", "wrangler", "package.json"), "utf8")).version;
  } catch (error) {
    wranglerUnavailable = `wrangler could not be installed: ${error instanceof Error ? error.message : String(error)}`;
    note(`baseline not available: ${wranglerUnavailable}`);
  }
}

async function runWrangler(run) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-dev-wrangler-"));
  temps.add(dir);
  writeWranglerProject(dir, COMPATIBILITY_DATE);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const sample = { tool: "wrangler", n: 1, run, edits: [], port };
  const proc = startChild(WRANGLER, ["dev", "--port", String(port), "--ip", "127.0.0.1", "--local"], {
    cwd: dir,
    env: wranglerEnv(dir),
    name: `wrangler dev (run ${run})`,
  });
  const t0 = proc.startedAt;
  try {
    const answer = await pollUntil(url, initialText(0), { everyMs: POLL_MS, timeoutMs: TIMEOUT_MS, proc, what: "wrangler's first 200" });
    sample.first200Ms = answer.t - t0;
    const readyLine = proc.lines.find((l) => l.text.includes("Ready on"));
    sample.readyMs = readyLine ? readyLine.t - t0 : undefined;
    sample.firstOutputMs = proc.lines[0] ? proc.lines[0].t - t0 : undefined;
    log(`  wrangler run ${run}: first 200 after ${sample.first200Ms.toFixed(0)} ms (Ready line ${sample.readyMs?.toFixed(0)} ms)`);
    await waitQuiet(proc, QUIET_MS);
    const reloads = () => proc.lines.filter((l) => l.text.includes("Local server updated and ready")).length;
    for (let k = 1; k <= EDITS; k++) {
      const text = `w0 edit ${k}`;
      const before = reloads();
      const linesBefore = proc.lines.length;
      const tEdit = now();
      writeFileSync(path.join(dir, scriptPath(0)), workerSource(text));
      const a = await pollUntil(url, text, { everyMs: POLL_MS, timeoutMs: TIMEOUT_MS, proc, what: `wrangler edit ${k}` });
      const ms = a.t - tEdit;
      await waitFor(proc, () => reloads() > before, { timeoutMs: TIMEOUT_MS, what: `wrangler's reload after edit ${k}` });
      await waitQuiet(proc, QUIET_MS);
      const after = proc.lines.slice(linesBefore);
      const reloading = after.find((l) => l.text.includes("Reloading local server"));
      const updated = after.find((l) => l.text.includes("Local server updated and ready"));
      sample.edits.push({
        k,
        worker: 0,
        ms,
        polls: a.polls,
        changeSeenMs: reloading ? reloading.t - tEdit : undefined,
        summaryMs: updated ? updated.t - tEdit : undefined,
        runs: reloads() - before,
        tEdit,
      });
    }
    sample.editMedianMs = median(sample.edits.map((e) => e.ms));
    log(`  wrangler run ${run}: edit-to-response median ${sample.editMedianMs.toFixed(0)} ms (${sample.edits.map((e) => e.ms.toFixed(0)).join(", ")})`);
  } catch (error) {
    sample.error = error instanceof Error ? error.message : String(error);
    // wrangler failing is the baseline's problem, not the bench's: recorded, the bench goes on without it.
    if (run === 1 && sample.first200Ms === undefined) {
      wranglerUnavailable = `wrangler dev --local did not serve offline: ${sample.error.split("\n").slice(0, 12).join(" | ")}`;
      note(`baseline not available: ${wranglerUnavailable}`);
    } else note(`wrangler run ${run} failed: ${sample.error.split("\n")[0]}`);
  } finally {
    const stopped = await stopChild(proc, "SIGINT", STOP_TIMEOUT_MS);
    sample.stop = stopped;
    if (stopped.forced || stopped.leftovers.length) {
      note(`wrangler run ${run}: did not stop cleanly on SIGINT${stopped.forced ? " (killed after 20 s)" : ""}${stopped.leftovers.length ? `, left ${stopped.leftovers.join(", ")} (killed)` : ""}`);
    }
    sample.output = proc.lines.map((l) => l.text).slice(0, 80);
    log(`  wrangler run ${run}: stopped in ${stopped.ms.toFixed(0)} ms, exit ${stopped.code ?? stopped.signal}`);
    removeTemp(dir);
  }
  return sample;
}

// ---------- main ----------

/** The newest .ts under src/ (tests aside) is newer than the build: the numbers are for an older build. */
function staleBuild() {
  const built = statSync(MAIN).mtimeMs;
  let newest = { mtimeMs: 0 };
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !/\.test(-fixture)?\.ts$/.test(e.name)) {
        const m = statSync(p).mtimeMs;
        if (m > newest.mtimeMs) newest = { file: path.relative(ROOT, p), mtimeMs: m };
      }
    }
  };
  walk(path.join(ROOT, "src"));
  return newest.mtimeMs > built ? newest.file : undefined;
}

const versionOf = (pkgJson) => {
  try {
    return JSON.parse(readFileSync(pkgJson, "utf8")).version;
  } catch {
    return undefined;
  }
};

if (!existsSync(MAIN)) throw new Error(`bench:dev runs the build: ${path.relative(ROOT, MAIN)} does not exist; run \`npm run build\` first`);
const stale = staleBuild();
if (stale) note(`the build is older than ${stale}: these numbers are for dist/ as built (run \`npm run build\` to measure the sources)`);
prepareWrangler();

const m = machine(ROOT);
m.miniflare = versionOf(path.join(ROOT, "node_modules", "miniflare", "package.json"));
m.esbuild = versionOf(path.join(ROOT, "node_modules", "esbuild", "package.json"));
m.wrangler = wranglerVersion;
m.wranglerMiniflare = versionOf(path.join(BENCH_DIR, "v094", "node_modules", "wrangler", "node_modules", "miniflare", "package.json")) ?? versionOf(path.join(BENCH_DIR, "v094", "node_modules", "miniflare", "package.json"));
log(
  `bench:dev: N=${NS.join(",")} runs=${RUNS} edits=${EDITS} declare=${DECLARES.join(",")}${TRACE ? " trace" : ""} wrangler=${wranglerUnavailable ? "no" : wranglerVersion} ` +
    `(${m.cpu}, Node ${m.node}; ${m.uptime ?? `load ${m.loadavg}`})`,
);

const started = performance.now();
const samples = [];
for (let run = 1; run <= RUNS; run++) {
  for (const v of VARIANTS) {
    samples.push(await runOurs(v, run));
    if (v.n === 1 && !wranglerUnavailable) samples.push(await runWrangler(run));
    await sleep(200);
  }
}
const totalS = (performance.now() - started) / 1000;
const end = machine(ROOT);

// ---------- summary ----------

/** The samples of `v` (a variant of ours, or { tool: "wrangler" }) that pass `ok`. */
const pick = (v, ok = () => true) => samples.filter((s) => s.tool === (v.tool ?? "ours") && (v.tool ? true : s.n === v.n && s.declare === v.declare) && ok(s));
function summarize(v) {
  const all = pick(v);
  const ss = pick(v, (s) => s.first200Ms !== undefined);
  const es = pick(v, (s) => s.editMedianMs !== undefined);
  if (!all.length) return undefined;
  const edits = es.flatMap((s) => s.edits.map((e) => e.ms));
  return {
    runs: all.length,
    failedRuns: all.filter((s) => s.error).length,
    first200Ms: r1(median(ss.map((s) => s.first200Ms))),
    first200MinMs: r1(Math.min(...ss.map((s) => s.first200Ms))),
    first200MaxMs: r1(Math.max(...ss.map((s) => s.first200Ms))),
    firstOutputMs: r1(median(ss.map((s) => s.firstOutputMs).filter((x) => x !== undefined))),
    firstRunSummaryMs: r1(median(ss.map((s) => s.firstRunSummaryMs).filter((x) => x !== undefined))),
    firstRunReportedMs: r1(median(ss.map((s) => s.firstRunReportedMs).filter((x) => x !== undefined))),
    readyMs: r1(median(ss.map((s) => s.readyMs).filter((x) => x !== undefined))),
    editMs: r1(median(es.map((s) => s.editMedianMs))),
    editAllMedianMs: r1(median(edits)),
    editP90Ms: r1(quantile(edits, 0.9)),
    editMinMs: r1(edits.length ? Math.min(...edits) : undefined),
    editMaxMs: r1(edits.length ? Math.max(...edits) : undefined),
    editCount: edits.length,
    changeSeenMs: r1(median(es.flatMap((s) => s.edits.map((e) => e.changeSeenMs)).filter((x) => x !== undefined))),
    editSummaryMs: r1(median(es.flatMap((s) => s.edits.map((e) => e.summaryMs)).filter((x) => x !== undefined))),
    stopMs: r1(median(all.map((s) => s.stop?.ms).filter((x) => x !== undefined))),
    stopCodes: [...new Set(all.map((s) => s.stop?.code ?? s.stop?.signal))],
  };
}

/** Medians of the traced events: Miniflare/esbuild load and calls, at start-up and per edit. */
function traceSummary(v) {
  const ss = pick(v, (s) => !s.error && s.trace?.length);
  if (!ss.length) return undefined;
  const startup = [];
  const editSide = [];
  for (const s of ss) {
    const boundary = s.first200Ms; // events before the first 200 belong to start-up
    const before = s.trace.filter((e) => e.t <= boundary);
    const after = s.trace.filter((e) => e.t > boundary);
    const sum = (evs, ev) => evs.filter((e) => e.ev === ev).reduce((a, e) => a + e.ms, 0);
    const count = (evs, ev) => evs.filter((e) => e.ev === ev).length;
    const load = (mod) => before.find((e) => e.ev === "load" && e.mod === mod);
    startup.push({
      nodeStartMs: before.find((e) => e.ev === "start")?.t,
      miniflareLoadMs: load("miniflare")?.ms,
      miniflareLoadedAt: load("miniflare")?.t,
      miniflareReadyMs: sum(before, "miniflare.ready"),
      miniflareReadyAt: before.find((e) => e.ev === "miniflare.ready")?.t,
      setOptionsMs: sum(before, "miniflare.setOptions"),
      setOptionsCount: count(before, "miniflare.setOptions"),
      buildMs: sum(before, "esbuild.build") + sum(before, "esbuild.context"),
      buildCount: count(before, "esbuild.build") + count(before, "esbuild.context"),
    });
    const edits = Math.max(1, s.edits.length);
    editSide.push({
      setOptionsMs: sum(after, "miniflare.setOptions") / edits,
      setOptionsCount: count(after, "miniflare.setOptions") / edits,
      buildMs: (sum(after, "esbuild.build") + sum(after, "esbuild.context")) / edits,
      buildCount: (count(after, "esbuild.build") + count(after, "esbuild.context")) / edits,
    });
  }
  const med = (xs, k) => r1(median(xs.map((x) => x[k]).filter((v) => v !== undefined)));
  const keys = (o) => Object.keys(o[0]);
  return {
    startup: Object.fromEntries(keys(startup).map((k) => [k, med(startup, k)])),
    perEdit: Object.fromEntries(keys(editSide).map((k) => [k, med(editSide, k)])),
  };
}

const summary = {};
for (const v of VARIANTS) summary[v.key] = summarize(v);
if (NS.includes(1) && !wranglerUnavailable) summary["wrangler:1"] = summarize({ tool: "wrangler" });
const traces = {};
if (TRACE) for (const v of VARIANTS) traces[v.key] = traceSummary(v);

const fmtMs = (x) => (x === undefined || Number.isNaN(x) ? "–" : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
const ws = summary["wrangler:1"];
const baseline = (v) => (wranglerUnavailable ? "baseline not available" : fmtMs(v));
const md = [];
md.push(`## Benchmark: \`alchemy dev\` vs \`wrangler dev\``);
md.push("");
md.push(
  `${m.date.slice(0, 10)}, commit ${m.commit}, ${m.cpu}, ${m.memoryGB} GB, ${m.platform}, Node ${m.node}; median of ${RUNS} run(s), ${EDITS} edits per run; ` +
    `ours: \`node dist/cli/main.js dev\` (Miniflare ${m.miniflare}, esbuild ${m.esbuild}${DECLARES.length === 1 ? `; Workers declared ${DECLARES[0] === "sequential" ? "one by one" : "concurrently"}` : ""}${TRACE ? "; traced" : ""}); ` +
    `baseline: ${wranglerUnavailable ? `not available (${wranglerUnavailable})` : `\`wrangler dev --local\` ${m.wrangler} (its Miniflare ${m.wranglerMiniflare}), offline`}. ` +
    `Load at start: ${m.uptime ?? m.loadavg}.`,
);
md.push("");
md.push("| phase | ours median | wrangler median | target | met? |");
md.push("|---|---:|---:|---:|:---:|");
const met = (v, target) => (v === undefined ? "–" : v < target ? "✅" : "❌");
for (const v of VARIANTS) {
  const o = summary[v.key];
  const target = TARGETS.first200[v.n];
  md.push(
    `| first 200, ${v.label} | ${fmtMs(o?.first200Ms)} | ${v.n === 1 ? baseline(ws?.first200Ms) : "–"} | ${target ? `< ${fmtMs(target)}` : "–"} | ${target ? met(o?.first200Ms, target) : "–"} |`,
  );
}
for (const v of VARIANTS) {
  const o = summary[v.key];
  md.push(`| edit-to-response, ${v.label} | ${fmtMs(o?.editMs)} | ${v.n === 1 ? baseline(ws?.editMs) : "–"} | < ${fmtMs(TARGETS.edit)} | ${met(o?.editMs, TARGETS.edit)} |`);
}
md.push("");
md.push("Details (medians; *spread* is min–max over runs, or over every edit of every run):");
md.push("");
const shortName = (v) => `ours N=${v.n}${v.n > 1 && DECLARES.length > 1 ? ` ${v.declare === "sequential" ? "one by one" : "concurrent"}` : ""}`;
md.push("| | " + [...VARIANTS.map(shortName), ...(ws ? ["wrangler N=1"] : [])].join(" | ") + " |");
md.push("|---|" + [...VARIANTS, ...(ws ? [ws] : [])].map(() => "---:|").join(""));
const cols = [...VARIANTS.map((v) => summary[v.key]), ...(ws ? [ws] : [])];
const row = (label, f) => md.push(`| ${label} | ${cols.map((c) => (c ? f(c) : "–")).join(" | ")} |`);
row("first 200, spread", (c) => `${fmtMs(c.first200MinMs)} – ${fmtMs(c.first200MaxMs)}`);
row("spawn → first output line", (c) => fmtMs(c.firstOutputMs));
row("spawn → run summary printed (ours)", (c) => fmtMs(c.firstRunSummaryMs));
row("the run's own time, as printed (ours, 0.1 s steps)", (c) => fmtMs(c.firstRunReportedMs));
row("spawn → Ready line", (c) => fmtMs(c.readyMs));
row("edit-to-response, median of every edit", (c) => fmtMs(c.editAllMedianMs));
row("edit-to-response, p90 / spread", (c) => `${fmtMs(c.editP90Ms)} / ${fmtMs(c.editMinMs)} – ${fmtMs(c.editMaxMs)}`);
row("edit → change noticed ('Change seen' / 'Reloading')", (c) => fmtMs(c.changeSeenMs));
row("edit → run done (summary / 'updated and ready')", (c) => fmtMs(c.editSummaryMs));
row("SIGINT → exit (exit codes)", (c) => `${fmtMs(c.stopMs)} (${c.stopCodes.join(", ")})`);
row("runs (failed)", (c) => `${c.runs} (${c.failedRuns})`);
md.push("");
if (TRACE) {
  md.push("Traced (bench/dev/trace.mjs; ms from the spawn, medians over runs; per edit: averaged over the run's edits, then the median):");
  md.push("");
  md.push("| | " + VARIANTS.map(shortName).join(" | ") + " |");
  md.push("|---|" + VARIANTS.map(() => "---:|").join(""));
  const trow = (label, f) => md.push(`| ${label} | ${VARIANTS.map((v) => (traces[v.key] ? f(traces[v.key]) : "–")).join(" | ")} |`);
  trow("Node up (preload runs)", (t) => fmtMs(t.startup.nodeStartMs));
  trow("Miniflare loaded at (its import took)", (t) => `${fmtMs(t.startup.miniflareLoadedAt)} (${fmtMs(t.startup.miniflareLoadMs)})`);
  trow("new Miniflare ready at (took)", (t) => `${fmtMs(t.startup.miniflareReadyAt)} (${fmtMs(t.startup.miniflareReadyMs)})`);
  trow("start-up setOptions: count, total", (t) => `${t.startup.setOptionsCount}, ${fmtMs(t.startup.setOptionsMs)}`);
  trow("start-up esbuild builds: count, total", (t) => `${t.startup.buildCount}, ${fmtMs(t.startup.buildMs)}`);
  trow("per edit: setOptions count, time", (t) => `${t.perEdit.setOptionsCount}, ${fmtMs(t.perEdit.setOptionsMs)}`);
  trow("per edit: esbuild builds, time", (t) => `${t.perEdit.buildCount}, ${fmtMs(t.perEdit.buildMs)}`);
  md.push("");
}
const misses = [];
for (const v of VARIANTS) {
  const o = summary[v.key];
  if (TARGETS.first200[v.n] && o?.first200Ms !== undefined && !(o.first200Ms < TARGETS.first200[v.n])) misses.push(`first 200, ${v.label}`);
  if (o?.editMs !== undefined && !(o.editMs < TARGETS.edit)) misses.push(`edit-to-response, ${v.label}`);
}
md.push(misses.length ? `Targets missed: ${misses.join(", ")}.` : "All targets met.");
md.push("");
if (notes.length) md.push("Notes:", "", ...notes.map((x) => `- ${x}`), "");
md.push(`Total bench time: ${totalS.toFixed(0)} s; load at the end: ${end.uptime ?? end.loadavg} (${os.cpus().length} CPUs).`);
const text = md.join("\n") + "\n";

mkdirSync(path.join(BENCH_DIR, "results"), { recursive: true });
writeFileSync(path.join(BENCH_DIR, "results", `${OUT}.md`), text);
writeFileSync(
  path.join(BENCH_DIR, "results", `${OUT}.json`),
  JSON.stringify(
    {
      machine: { ...m, uptimeEnd: end.uptime, loadavgEnd: end.loadavg },
      config: { RUNS, NS, EDITS, DECLARES, variants: VARIANTS, TRACE, POLL_MS, QUIET_MS, TIMEOUT_MS, COMPATIBILITY_DATE, app: APP, targets: TARGETS },
      wrangler: wranglerUnavailable ? { available: false, why: wranglerUnavailable } : { available: true, version: wranglerVersion },
      summary,
      traces,
      samples,
      notes,
      totalS,
    },
    null,
    2,
  ) + "\n",
);
process.stdout.write("\n" + text);
process.exitCode = failed ? 1 : 0;
