#!/usr/bin/env node
// `npm run bench`: the same no-I/O workload against this engine ("ours") and
// Alchemy 0.94 ("v094", npm alias alchemy-v094), on one or more state stores,
// plus the filesystem floor. Alchemy 0.94 is the benchmark's own dependency
// (bench/v094/package.json), installed on first use (scripts/bench-install.mjs).
//
// For every N (default 1000 and 10000), every run (default 3), every store and
// every engine, in a fresh temp dir, each phase in its own process:
//   cold deploy         N resources created (v=1)
//   no-op redeploy      the same program again, nothing changes
//   update all          v=2 for every resource
//   orphan-delete half  only the first half of every group is declared (v=2);
//                       the other half is garbage-collected at finalize
//   (untimed redeploy)  back to N resources, so both destroys remove N
//   destroy sequential  phase "destroy", destroyStrategy "sequential"
//   (untimed redeploy)
//   destroy parallel    phase "destroy", destroyStrategy "parallel"
// The state is checked after every phase (exact set of resource fqns and their
// `v`, or nothing left after a destroy); the bench fails loudly if a phase did
// not do its work. Filesystem store: its files are read. Our SQLite and
// PostgreSQL stores: a separate process opens the stage with the store's own
// factory and walks listScopes/all (verify-ours.mjs). Alchemy 0.94's SQLite
// store: its `resources` table is queried.
//
// Env:
//   BENCH_N        comma-separated Ns (default "1000,10000")
//   BENCH_RUNS     runs per N, store and engine, the median is reported (default 3)
//   BENCH_RUNS_V094  runs for Alchemy 0.94 only (default BENCH_RUNS)
//   BENCH_ENGINES  comma-separated subset of "ours,v094" (default both)
//   BENCH_STORES   comma-separated subset of "fs,sqlite,postgres,s3,dynamodb" (default "fs").
//                  s3: ours on S3StateStore against the tests' S3 emulator (s3rver,
//                  started here), a fresh prefix and record cache per run, plus a
//                  no-op redeploy with an empty cache; requests per phase are counted.
//                  dynamodb: ours on DynamoDBStateStore against dynalite (started
//                  here), a fresh table per run; requests per phase are counted.
//                  ours: FileSystemStateStore (default store), SQLiteStateStore
//                  (<dir>/state.sqlite), PostgresStateStore (a fresh schema per
//                  run, dropped after). Alchemy 0.94: fs (its default store) and
//                  sqlite (its SQLiteStateStore, see v094-sqlite-store.mjs); it
//                  is not run on postgres.
//   BENCH_LOCKING  "on" (default), "off" or "on,off": our `stateLocking` option
//                  (true / false). "on,off" runs ours both ways, interleaved,
//                  and adds an on/off table. Alchemy 0.94 has no stage locking.
//   BENCH_PG_URL   PostgreSQL server for store postgres
//                  (default "postgres://postgres@127.0.0.1:5432/test")
//   BENCH_V094_SQLITE_DRIVER, BENCH_V094_SQLITE_SYNC: see v094-sqlite-store.mjs
//   BENCH_LOADER   "tsx" (default): every child runs `node --import tsx
//                  --conditions=source` (ours from src/*.ts; Alchemy 0.94 is
//                  plain JS but gets the same loader so process start-up costs
//                  the same); "dist": plain `node` for every child, ours from
//                  dist/ (run `npm run build` first)
//   BENCH_TIMEOUT_MS  per-process timeout (default 900000)
//   BENCH_KEEP     "1": keep the temp dirs (and PostgreSQL schemas)
//   BENCH_OUT      base name of the result files (default "latest")
// Output: markdown tables per N on stdout, also written to
// bench/results/<BENCH_OUT>.md, with raw samples in bench/results/<BENCH_OUT>.json.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBenchInstall } from "../scripts/bench-install.mjs";
import { APP, KIND, STAGE, expectedFqns } from "./workload-shared.mjs";
import { machine } from "./machine.mjs";
import { startS3Emulator } from "./s3-emulator.mjs";
import { startDynamoDBEmulator } from "./dynamodb-emulator.mjs";
import { CLOUD_STORES, EMPTY_CACHE_PHASE, cloudTable } from "./cloud-tables.mjs";
import { fmtMB, fmtMs, fmtN, fmtPct, fmtR, fmtX, median } from "./format.mjs";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);

const list = (v) => v.split(",").map((s) => s.trim()).filter(Boolean);
const NS = list(process.env.BENCH_N ?? "1000,10000").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? "3");
const RUNS_V094 = Number(process.env.BENCH_RUNS_V094 ?? String(RUNS));
const LOADER = process.env.BENCH_LOADER ?? "tsx";
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? "900000");
const KEEP = process.env.BENCH_KEEP === "1";
const ENGINES = list(process.env.BENCH_ENGINES ?? "ours,v094");
const STORES = list(process.env.BENCH_STORES ?? "fs");
const LOCKINGS = list(process.env.BENCH_LOCKING ?? "on");
const PG_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const OUT = process.env.BENCH_OUT ?? "latest";

for (const n of NS) if (!Number.isInteger(n) || n < 20) throw new Error(`BENCH_N: every N must be an integer >= 20, got ${n}`);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer`);
if (!Number.isInteger(RUNS_V094) || RUNS_V094 < 1) throw new Error(`BENCH_RUNS_V094 must be a positive integer`);
if (LOADER !== "tsx" && LOADER !== "dist") throw new Error(`BENCH_LOADER must be "tsx" or "dist"`);
for (const e of ENGINES) if (e !== "ours" && e !== "v094") throw new Error(`BENCH_ENGINES: unknown engine ${e}`);
for (const s of STORES) if (!["fs", "sqlite", "postgres", "s3", "dynamodb"].includes(s)) throw new Error(`BENCH_STORES: unknown store ${s} (fs, sqlite, postgres, s3, dynamodb)`);
for (const l of LOCKINGS) if (l !== "on" && l !== "off") throw new Error(`BENCH_LOCKING: unknown value ${l} (on, off, or on,off)`);
if (!/^[\w.-]+$/.test(OUT)) throw new Error(`BENCH_OUT must be a plain file name, got ${OUT}`);

const ENGINE_NAME = { ours: "ours", v094: "Alchemy 0.94" };
const STORE_NAME = { fs: "filesystem", sqlite: "SQLite", postgres: "PostgreSQL", s3: "S3 (s3rver)", dynamodb: "DynamoDB (dynalite)" };
const WORKLOAD = { ours: join(BENCH_DIR, "workload-ours.mjs"), v094: join(BENCH_DIR, "workload-v094.mjs") };

/**
 * What runs: every (engine, store[, locking]) pair. Keys: "ours:<store>:<on|off>", "v094:<store>".
 * Alchemy 0.94 has no PostgreSQL store here and no stage locking.
 */
const VARIANTS = [];
for (const store of STORES) {
  for (const engine of ENGINES) {
    if (engine === "ours") for (const locking of LOCKINGS) VARIANTS.push({ key: `ours:${store}:${locking}`, engine, store, locking });
    else if (store === "fs" || store === "sqlite") VARIANTS.push({ key: `v094:${store}`, engine, store });
  }
}
if (!VARIANTS.length) throw new Error("bench: nothing to run for these BENCH_ENGINES and BENCH_STORES");
/** The key of our variant on `store` with the first BENCH_LOCKING value (the one compared with 0.94). */
const oursKey = (store, locking = LOCKINGS[0]) => `ours:${store}:${locking}`;
const v094Key = (store) => `v094:${store}`;
const runsFor = (variant) => (variant.engine === "v094" ? RUNS_V094 : RUNS);
const variantName = (v) =>
  `${ENGINE_NAME[v.engine]} ${v.store}${v.engine === "ours" && LOCKINGS.length > 1 ? ` locking ${v.locking}` : ""}`;

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

// Alchemy 0.94 is not part of the project's install: npm ci in bench/v094 on first use.
if (ENGINES.includes("v094")) ensureBenchInstall();

const NODE_ARGS = LOADER === "tsx" ? ["--import", import.meta.resolve("tsx"), "--conditions=source"] : [];

const CHILD_ENV = { ...process.env, ALCHEMY_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", ALCHEMY_CI_STATE_STORE_CHECK: "false" };
// Env Alchemy 0.94 would otherwise read for stage/root/password/state file.
for (const k of ["STAGE", "ALCHEMY_STAGE", "ALCHEMY_ROOT", "ALCHEMY_PASSWORD", "ALCHEMY_TEST_KILL_ON_FINALIZE", "ALCHEMY_STATE_FILE"]) delete CHILD_ENV[k];

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

/**
 * The steps of a run of `variant`: on S3, a second no-op redeploy right after the first, with an empty
 * record cache (a machine that has not read the stage before); the cache the other phases use is kept.
 */
function stepsFor(variant) {
  if (variant.store !== "s3") return STEPS;
  const i = STEPS.findIndex((s) => s.noop);
  return [...STEPS.slice(0, i + 1), { ...STEPS[i], label: EMPTY_CACHE_PHASE, emptyCache: true }, ...STEPS.slice(i + 1)];
}

// Reference Alchemy 0.94 medians at N = 10,000 given in the issues, per store.
const REFERENCE_V094_10K = {
  fs: {
    "cold deploy": 13200,
    "no-op redeploy": 1840,
    "update all": 9100,
    "orphan-delete half": 5500,
    "destroy sequential": 13100,
    "destroy parallel": 7000,
    rssMB: 562,
  },
  sqlite: {
    "cold deploy": 26900,
    "no-op redeploy": 4500,
    "update all": 27000,
    "destroy parallel": 15500,
    rssMB: 1600,
  },
};

const notes = [];
const note = (msg) => {
  if (!notes.includes(msg)) notes.push(msg);
};
/** stderr text -> { first: which process wrote it first, count } */
const stderrSeen = new Map();
const log = (msg) => process.stderr.write(`${msg}\n`);

/** Spawns one process; resolves { result, wallMs, stdout, stderr, code }. */
function runProcess(script, env, { flush = true } = {}) {
  // Flush dirty pages left by the previous process (untimed), so that one
  // phase's writeback does not land in the next phase's time.
  if (flush) {
    try {
      execFileSync("sync");
    } catch {}
  }
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

// ---------- reading the state back ----------

/**
 * A phase's state, whatever the store:
 *   records: Map fqn -> { v, status, seq? }   (resources of kind bench::Noop)
 *   files:   state files found (fs store) / other records (SQL stores)
 *   mtimes:  Map file -> mtimeMs (fs store), to spot a no-op redeploy that rewrites state
 *   what:    "files" | "records"
 */
function addRecord(records, fqn, rec, where) {
  if (records.has(fqn)) throw new Error(`state: ${fqn} appears twice (${records.get(fqn).where}, ${where})`);
  records.set(fqn, { ...rec, where });
}

/** Walks a stage dir of the filesystem store: every *.json file, and the Noop records (by fqn) found in them. */
async function readFsState(dir) {
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
  const records = new Map(); // fqn -> { v, status, where }
  const mtimes = new Map(); // file -> mtimeMs
  let otherFiles = 0;
  const collect = (obj, file, depth) => {
    if (obj === null || typeof obj !== "object" || depth > 4) return 0;
    if (obj.kind === KIND && typeof obj.fqn === "string") {
      addRecord(records, obj.fqn, { v: obj.props?.v, status: obj.status }, file);
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
  return { what: "files", files: files.length, otherFiles, records, mtimes };
}

/** Our SQL stores, read through the store itself in a child process (verify-ours.mjs). */
async function readOursStoreState(variant, env) {
  const out = `${env.BENCH_WL_DIR}.verify.json`;
  let dump;
  try {
    const p = await runProcess(join(BENCH_DIR, "verify-ours.mjs"), { ...env, BENCH_VERIFY_OUT: out }, { flush: false });
    if (p.code !== 0 || !p.stdout.includes("BENCH_STATE ok")) throw childFailure(`verify ${variant.key}`, p);
    dump = JSON.parse(await readFile(out, "utf8"));
  } finally {
    await rm(out, { force: true });
  }
  if (dump.problems.length) throw new Error(`${variant.key}: the store disagrees with itself: ${dump.problems.slice(0, 5).join("; ")}`);
  const records = new Map();
  let other = 0;
  for (const [fqn, scopePath, id, kind, status, seq, v] of dump.records) {
    if (kind !== KIND) {
      other++;
      continue;
    }
    if (fqn !== `${scopePath}/${id}`) throw new Error(`${variant.key}: record ${id} in scope ${scopePath} has fqn ${fqn}`);
    addRecord(records, fqn, { v, status, seq }, scopePath);
  }
  return { what: "records", files: other, records, scopes: dump.scopes, lock: dump.lock };
}

/** Alchemy 0.94's SQLite store: its `resources` table (schema from its drizzle migrations). */
async function readV094SqliteState(dir) {
  const { default: Database } = await import("better-sqlite3");
  const file = join(dir, "state.sqlite");
  if (!existsSync(file)) throw new Error(`v094:sqlite: no database at ${file}: the store was not used`);
  const db = new Database(file, { fileMustExist: true });
  try {
    const rows = db.prepare("SELECT scope, id, kind, fqn, status, seq, props FROM resources").all();
    const records = new Map();
    let other = 0;
    for (const row of rows) {
      if (row.kind !== KIND) {
        other++;
        continue;
      }
      const chain = JSON.parse(row.scope);
      if (row.fqn !== `${chain.join("/")}/${row.id}`) throw new Error(`v094:sqlite: record ${row.id} in scope ${row.scope} has fqn ${row.fqn}`);
      const props = row.props === null ? undefined : JSON.parse(row.props);
      addRecord(records, row.fqn, { v: props?.v, status: row.status, seq: row.seq }, row.scope);
    }
    return { what: "records", files: other, records };
  } finally {
    db.close();
  }
}

async function readState(variant, dir, env) {
  if (variant.store === "fs") return readFsState(dir);
  // A SQL store must not have left resource records in the filesystem store.
  const fsState = await readFsState(dir);
  if (fsState.records.size) {
    throw new Error(`${variant.key}: ${fsState.records.size} resource records in the filesystem store under ${dir}/.alchemy: the ${variant.store} store was not used`);
  }
  return variant.engine === "ours" ? readOursStoreState(variant, env) : readV094SqliteState(dir);
}

/** Throws unless the state is what `step` should have left. */
async function verify(variant, n, step, dir, env, before) {
  const who = `${variant.key} N=${n}`;
  const state = await readState(variant, dir, env);
  if (step.noop && before) {
    // A no-op redeploy should not write state: files whose mtime changed, or records whose seq did.
    let rewritten = 0;
    if (state.mtimes) {
      // The stage's metadata (~stage.json) records the deploy itself (lastDeploy): not a resource record.
      for (const [file, mtime] of state.mtimes) if (!basename(file).startsWith("~") && before.mtimes.get(file) !== mtime) rewritten++;
    } else {
      for (const [fqn, r] of state.records) if (before.records.get(fqn)?.seq !== r.seq) rewritten++;
    }
    if (rewritten) {
      const total = state.what === "files" ? state.files : state.records.size;
      note(`${variant.key === "ours:fs:on" || variant.key === "v094:fs" ? variant.engine : variant.key} N=${n} "${step.label}" rewrote ${rewritten} of ${total} state ${state.what} although nothing changed`);
    }
  }
  if (state.lock) note(`${who} "${step.label}": the stage lock was still there after the run (${JSON.stringify(state.lock)})`);
  if (step.op === "destroy") {
    if (state.records.size !== 0) {
      const some = [...state.records.keys()].slice(0, 5).join(", ");
      throw new Error(`${who} "${step.label}": ${state.records.size} resources still in state (e.g. ${some})`);
    }
    if (state.files !== 0) {
      const where = variant.store === "fs" ? `state file(s) left under .alchemy/${APP}/${STAGE}` : `other record(s) left in the ${variant.store} store`;
      note(`${variant.store === "fs" ? variant.engine : variant.key} N=${n} "${step.label}": ${state.files} non-resource ${where}`);
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
    throw new Error(`${who} "${step.label}": state is wrong after the phase: ${problems.join("; ")} (expected ${expected.size} resources)`);
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
  if (!text) return;
  const key = text.split("\n").slice(0, 5).join(" | ").slice(0, 500);
  const seen = stderrSeen.get(key);
  if (seen) seen.count++;
  else {
    stderrSeen.set(key, { first: what, count: 1 });
    log(`  ! ${what} wrote to stderr: ${key}`);
  }
}

// ---------- PostgreSQL schemas ----------

async function withPg(fn) {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// ---------- one run of one variant ----------

async function runVariant(variant, n, run, samples) {
  const dir = await mkdtemp(join(os.tmpdir(), `alchemy-bench-${variant.engine}-${variant.store}-${n}-`));
  const env = { BENCH_WL_N: String(n), BENCH_WL_DIR: dir, BENCH_WL_STORE: variant.store };
  if (variant.engine === "ours") env.BENCH_WL_LOCKING = variant.locking;
  let schema;
  if (variant.store === "postgres") {
    schema = `bench_${n}_${run}_${process.pid}_${randomBytes(3).toString("hex")}`;
    await withPg((c) => c.query(`CREATE SCHEMA ${schema}`));
    Object.assign(env, { BENCH_WL_PG_URL: PG_URL, BENCH_WL_PG_SCHEMA: schema });
  }
  if (variant.store === "s3") {
    // The run's own record cache, so that every run starts as on a fresh machine and none touches ~/.cache.
    Object.assign(env, { BENCH_WL_S3_ENDPOINT: s3Emulator.endpoint, BENCH_WL_S3_PREFIX: `run-${n}-${run}-${randomBytes(3).toString("hex")}`, ALCHEMY_CACHE_DIR: join(dir, "cache") });
  }
  if (variant.store === "dynamodb") {
    Object.assign(env, { BENCH_WL_DYNAMODB_ENDPOINT: dynamoDBEmulator.endpoint, BENCH_WL_DYNAMODB_TABLE: `bench-${n}-${run}-${randomBytes(3).toString("hex")}` });
  }
  // The AWS SDK's NodeVersionSupportWarning (Node < 22) says nothing about what is measured.
  if (CLOUD_STORES.includes(variant.store)) env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const emulator = variant.store === "s3" ? s3Emulator : variant.store === "dynamodb" ? dynamoDBEmulator : undefined;
  try {
    let before;
    for (const step of stepsFor(variant)) {
      const what = `${variant.key} N=${n} run ${run} "${step.label}"`;
      await emulator?.requests(); // counts start afresh
      const p = await runProcess(WORKLOAD[variant.engine], {
        ...env,
        ...(step.emptyCache && { ALCHEMY_CACHE_DIR: await mkdtemp(join(dir, "empty-cache-")) }),
        BENCH_WL_OP: step.op,
        BENCH_WL_V: String(step.v ?? 1),
        BENCH_WL_HALF: step.half ? "1" : "0",
        BENCH_WL_STRATEGY: step.strategy ?? "sequential",
        BENCH_WL_LABEL: step.label,
      });
      // Read before the state is verified, which reads the bucket too.
      const requests = await emulator?.requests();
      if (p.code !== 0 || !p.result || p.result.ms === null) throw childFailure(what, p);
      noteStderr(what, p);
      if (variant.engine === "ours" && variant.locking === "on" && p.result.canLock === false) {
        note(`ours on ${variant.store}: the store cannot lock stages (no StageLocking), so BENCH_LOCKING makes no difference there; the engine warns about it on stderr in every run`);
      }
      if (p.result.driver) variant.driver = `${p.result.driver}, synchronous ${p.result.synchronous}`;
      const state = await verify(variant, n, step, dir, env, before);
      before = state;
      const sample = { ms: p.result.ms, wallMs: p.wallMs, maxRssMB: p.result.maxRssMB, cpuMs: p.result.cpuMs, ...(requests && { requests }) };
      log(
        `  ${variant.key.padEnd(15)} N=${n} run ${run} ${step.label.padEnd(19)} ${fmtMs(sample.ms).padStart(9)} ms ` +
          `(wall ${fmtMs(sample.wallMs)} ms, cpu ${fmtMs(sample.cpuMs)} ms, ${sample.maxRssMB.toFixed(0)} MB)  state: ${state.records.size} resources, ` +
          `${state.files} ${state.what === "files" ? "files" : "other records"}` +
          (requests ? `; requests: ${Object.entries(requests).map(([op, k]) => `${op} ${k}`).join(", ") || "none"}` : ""),
      );
      if (step.timed) samples[variant.key][step.label].push(sample);
    }
  } finally {
    if (!KEEP) {
      await rm(dir, { recursive: true, force: true });
      if (schema) await withPg((c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
    } else log(`  kept ${dir}${schema ? ` and schema ${schema}` : ""}`);
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
        minMs: Math.min(...xs.map((x) => x.ms)),
        maxMs: Math.max(...xs.map((x) => x.ms)),
        samples: xs.length,
        ...(xs[0].requests && { requests: Object.fromEntries([...new Set(xs.flatMap((x) => Object.keys(x.requests)))].map((op) => [op, median(xs.map((x) => x.requests[op] ?? 0))])) }),
      };
    }
    const rss = Object.values(out[who]).map((m) => m.maxRssMB);
    if (rss.length) out[who].peakRssMB = Math.max(...rss);
  }
  return out;
}

const ONLY_DEFAULT_STORE = STORES.length === 1 && STORES[0] === "fs";

/** Ours vs Alchemy 0.94 on one store (the table the bench always had, for fs). */
function versusTable(n, store, med) {
  const o = med[oursKey(store)] ?? {};
  const t = med[v094Key(store)] ?? {};
  const refs = REFERENCE_V094_10K[store];
  const ref = n === 10000 && ENGINES.includes("v094") && refs !== undefined;
  const runsNote = RUNS_V094 !== RUNS && ENGINES.includes("v094") ? ` (ours: median of ${RUNS}, Alchemy 0.94: median of ${RUNS_V094})` : "";
  const lines = [];
  if (!ENGINES.includes("v094")) {
    // ours alone: no empty Alchemy 0.94 columns
    lines.push(ONLY_DEFAULT_STORE ? `### N = ${fmtN(n)}` : `### N = ${fmtN(n)}, ${STORE_NAME[store]} store (ours only)`, "");
    if (LOCKINGS.length > 1) lines.push(`(stage locking ${LOCKINGS[0]})`, "");
    lines.push("| phase | ours (ms) | min–max (ms) | wall (ms) | peak RSS (MB) | CPU (ms) |", "|---|---:|---:|---:|---:|---:|");
    for (const ph of PHASES) {
      const a = o[ph];
      lines.push(`| ${ph} | ${fmtMs(a?.ms)} | ${fmtMs(a?.minMs)}–${fmtMs(a?.maxMs)} | ${fmtMs(a?.wallMs)} | ${fmtMB(a?.maxRssMB)} | ${fmtMs(a?.cpuMs)} |`);
    }
    lines.push(`| **peak RSS, any phase** | | | | **${fmtMB(o.peakRssMB)}** | |`, "");
  } else {
    lines.push(ONLY_DEFAULT_STORE ? `### N = ${fmtN(n)}` : `### N = ${fmtN(n)}, ${STORE_NAME[store]} store${runsNote}`);
    lines.push("");
    if (LOCKINGS.length > 1) lines.push(`(ours with stage locking ${LOCKINGS[0]})`, "");
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
          (ref ? ` ${fmtMs(refs[ph])} |` : ""),
      );
  }
  lines.push(
    `| **peak RSS, any phase** | | | | | | | **${fmtMB(o.peakRssMB)}** | **${fmtMB(t.peakRssMB)}** | **${fmtR(o.peakRssMB && t.peakRssMB ? o.peakRssMB / t.peakRssMB : undefined)}** | | |` +
      (ref ? ` ${fmtN(refs.rssMB)} MB |` : ""),
  );
  lines.push("");
  }
  if (store === "fs") {
    const f = med.floor ?? {};
    lines.push(`Floor on this machine: ${fmtN(n)} atomic file writes (temp file + rename) in the same layout, no engine:`);
    lines.push("");
    lines.push("| floor | ms | wall (ms) | peak RSS (MB) | CPU (ms) |");
    lines.push("|---|---:|---:|---:|---:|");
    for (const { name, label } of FLOORS) {
      lines.push(`| ${name} | ${fmtMs(f[label]?.ms)} | ${fmtMs(f[label]?.wallMs)} | ${fmtMB(f[label]?.maxRssMB)} | ${fmtMs(f[label]?.cpuMs)} |`);
    }
    lines.push("");
  }
  return lines;
}

/** Ours on PostgreSQL (Alchemy 0.94 has no such store here), against ours on SQLite when it ran. */
function postgresTable(n, med) {
  const p = med[oursKey("postgres")] ?? {};
  const s = med[oursKey("sqlite")];
  const lines = [`### N = ${fmtN(n)}, PostgreSQL store (ours only)`, ""];
  if (LOCKINGS.length > 1) lines.push(`(stage locking ${LOCKINGS[0]})`, "");
  lines.push("| phase | ours PostgreSQL (ms) | wall (ms) | peak RSS (MB) | CPU (ms) | ours SQLite (ms) | PostgreSQL / SQLite |");
  lines.push("|---|---:|---:|---:|---:|---:|---:|");
  for (const ph of PHASES) {
    const a = p[ph];
    const b = s?.[ph];
    lines.push(`| ${ph} | ${fmtMs(a?.ms)} | ${fmtMs(a?.wallMs)} | ${fmtMB(a?.maxRssMB)} | ${fmtMs(a?.cpuMs)} | ${fmtMs(b?.ms)} | ${fmtR(a && b ? a.ms / b.ms : undefined)} |`);
  }
  lines.push(`| **peak RSS, any phase** | | | **${fmtMB(p.peakRssMB)}** | | ${s ? `(SQLite ${fmtMB(s.peakRssMB)} MB)` : ""} | |`, "");
  return lines;
}

/** Every variant side by side, one row each, with a store column. */
function overviewTable(n, med) {
  const lines = [`### N = ${fmtN(n)}, every engine and store (in-process ms, medians)`, ""];
  lines.push(`| engine | store | locking | ${PHASES.join(" | ")} | peak RSS (MB) | runs |`);
  lines.push(`|---|---|---|${PHASES.map(() => "---:|").join("")}---:|---:|`);
  for (const v of VARIANTS) {
    const m = med[v.key] ?? {};
    lines.push(
      `| ${ENGINE_NAME[v.engine]} | ${v.store}${v.driver ? ` (${v.driver})` : ""} | ${v.engine === "ours" ? v.locking : "n/a"} | ` +
        `${PHASES.map((ph) => fmtMs(m[ph]?.ms)).join(" | ")} | ${fmtMB(m.peakRssMB)} | ${runsFor(v)} |`,
    );
  }
  lines.push("");
  return lines;
}

/** What stage locking costs ours: on vs off, per store. */
function lockingTable(n, med) {
  const lines = [`### N = ${fmtN(n)}, stage locking on vs off (ours)`, ""];
  lines.push("Medians; *min–max* is the spread over the runs, *on/off (min)* compares the fastest run of each (less sensitive to other load on the machine).", "");
  lines.push("| store | phase | locking on (ms) | locking off (ms) | on/off | cost of locking | on min–max (ms) | off min–max (ms) | on/off (min) | on wall (ms) | off wall (ms) | on peak RSS (MB) | off peak RSS (MB) |");
  lines.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const store of STORES) {
    const on = med[oursKey(store, "on")] ?? {};
    const off = med[oursKey(store, "off")] ?? {};
    for (const ph of PHASES) {
      const a = on[ph];
      const b = off[ph];
      const r = a && b ? a.ms / b.ms : undefined;
      lines.push(
        `| ${store} | ${ph} | ${fmtMs(a?.ms)} | ${fmtMs(b?.ms)} | ${fmtR(r)} | ${fmtPct(r === undefined ? undefined : r - 1)} | ` +
          `${fmtMs(a?.minMs)}–${fmtMs(a?.maxMs)} | ${fmtMs(b?.minMs)}–${fmtMs(b?.maxMs)} | ${fmtR(a && b ? a.minMs / b.minMs : undefined)} | ` +
          `${fmtMs(a?.wallMs)} | ${fmtMs(b?.wallMs)} | ${fmtMB(a?.maxRssMB)} | ${fmtMB(b?.maxRssMB)} |`,
      );
    }
  }
  lines.push("");
  return lines;
}

function growthTable(summary) {
  if (NS.length < 2) return [];
  const lo = Math.min(...NS);
  const hi = Math.max(...NS);
  const limit = 1.2 * (hi / lo);
  const legacy = ONLY_DEFAULT_STORE && LOCKINGS.length === 1;
  const cols = VARIANTS.map((v) => ({ key: v.key, engine: v.engine, name: legacy ? ENGINE_NAME[v.engine] : variantName(v) }));
  const lines = [];
  lines.push(`### Growth N = ${fmtN(hi)} / N = ${fmtN(lo)} (in-process ms; linear is ${hi / lo}, limit ${limit.toFixed(0)})`);
  lines.push("");
  lines.push(`| phase | ${cols.map((c) => c.name).join(" | ")} |`);
  lines.push(`|---|${cols.map(() => "---:|").join("")}`);
  for (const ph of PHASES) {
    const g = (c) => {
      const a = summary[lo]?.[c.key]?.[ph]?.ms;
      const b = summary[hi]?.[c.key]?.[ph]?.ms;
      if (a === undefined || b === undefined) return "–";
      const r = b / a;
      return `${r.toFixed(1)}${c.engine === "ours" ? (r < limit ? " ✅" : " ❌") : ""}`;
    };
    lines.push(`| ${ph} | ${cols.map(g).join(" | ")} |`);
  }
  lines.push("");
  return lines;
}

function targets(summary) {
  const big = summary[10000];
  if (!big) return [];
  const lines = [];
  let any = false;
  let allOk = true;
  const check = (ok) => {
    any = true;
    allOk &&= ok;
    return ok ? "✅" : "❌";
  };
  // Filesystem store: ≥ 3× faster than 0.94 in every phase, peak RSS ≤ half, growth < 12.
  const ofs = big[oursKey("fs")];
  const tfs = big[v094Key("fs")];
  if (ofs && tfs) {
    lines.push("### Targets at N = 10,000 (filesystem store)", "");
    for (const ph of PHASES) {
      const x = tfs[ph].ms / ofs[ph].ms;
      lines.push(`- ${ph}: ${fmtX(x)} faster than Alchemy 0.94 (target ≥ 3×) ${check(x >= 3)}`);
    }
    const r = ofs.peakRssMB / tfs.peakRssMB;
    lines.push(`- peak RSS: ${fmtMB(ofs.peakRssMB)} MB vs ${fmtMB(tfs.peakRssMB)} MB = ${fmtR(r)} of Alchemy 0.94 (target ≤ 0.50) ${check(r <= 0.5)}`);
    const small = summary[1000]?.[oursKey("fs")];
    if (small) {
      for (const ph of PHASES) {
        const g = ofs[ph].ms / small[ph].ms;
        if (!(g < 12)) lines.push(`- growth ${ph}: ${g.toFixed(1)} (target < 12) ${check(false)}`);
      }
    }
    lines.push("");
  }
  // SQLite: ≥ 5× faster than 0.94's SQLite store in every phase; our peak RSS < 300 MB.
  const osq = big[oursKey("sqlite")];
  const tsq = big[v094Key("sqlite")];
  if (osq) {
    lines.push("### Targets at N = 10,000 (SQLite store)", "");
    const ref = REFERENCE_V094_10K.sqlite;
    for (const ph of PHASES) {
      const parts = [];
      if (tsq) {
        const x = tsq[ph].ms / osq[ph].ms;
        parts.push(`${fmtX(x)} faster than Alchemy 0.94 on SQLite as measured (target ≥ 5×) ${check(x >= 5)}`);
      }
      if (ref[ph] !== undefined) parts.push(`${fmtX(ref[ph] / osq[ph].ms)} vs the 0.94 reference ${fmtMs(ref[ph])} ms`);
      if (parts.length) lines.push(`- ${ph}: ours ${fmtMs(osq[ph].ms)} ms; ${parts.join("; ")}`);
    }
    lines.push(`- our peak RSS on SQLite: ${fmtMB(osq.peakRssMB)} MB (target < 300 MB) ${check(osq.peakRssMB < 300)}` + (tsq ? `; Alchemy 0.94: ${fmtMB(tsq.peakRssMB)} MB (reference ${fmtN(ref.rssMB)} MB)` : ""));
    lines.push("");
  }
  // PostgreSQL within 2× of SQLite, phase by phase.
  const opg = big[oursKey("postgres")];
  if (opg && osq) {
    lines.push("### Targets at N = 10,000 (PostgreSQL store)", "");
    for (const ph of PHASES) {
      const r = opg[ph].ms / osq[ph].ms;
      lines.push(`- ${ph}: PostgreSQL ${fmtMs(opg[ph].ms)} ms = ${fmtR(r)}× our SQLite (target ≤ 2×) ${check(r <= 2)}`);
    }
    lines.push("");
  }
  // Stage locking adds < 5 % to any phase.
  if (LOCKINGS.includes("on") && LOCKINGS.includes("off")) {
    const rows = [];
    for (const store of STORES) {
      const on = big[oursKey(store, "on")];
      const off = big[oursKey(store, "off")];
      if (!on || !off) continue;
      for (const ph of PHASES) {
        const r = on[ph].ms / off[ph].ms - 1;
        const rMin = on[ph].minMs / off[ph].minMs - 1;
        rows.push(
          `- ${store}, ${ph}: locking ${fmtPct(r)} (medians ${fmtMs(on[ph].ms)} vs ${fmtMs(off[ph].ms)} ms; fastest runs ${fmtPct(rMin)}; target < +5 %) ${check(r < 0.05)}`,
        );
      }
    }
    if (rows.length) lines.push("### Targets at N = 10,000 (stage locking)", "", ...rows, "");
  }
  if (!any) return [];
  lines.push(allOk ? "All targets met." : "Some targets are NOT met.", "");
  return lines;
}

// ---------- main ----------

const m = machine(ROOT);
if (STORES.includes("postgres")) {
  m.postgres = await withPg(async (c) => (await c.query("SHOW server_version")).rows[0].server_version).catch((e) => {
    throw new Error(`bench: store postgres needs a PostgreSQL server at ${PG_URL} (BENCH_PG_URL): ${e.message}`);
  });
}
log(
  `bench: N=${NS.join(",")} runs=${RUNS}${RUNS_V094 !== RUNS ? ` (0.94: ${RUNS_V094})` : ""} engines=${ENGINES.join(",")} stores=${STORES.join(",")} ` +
    `locking=${LOCKINGS.join(",")} loader=${LOADER} (${m.cpu}, ${m.node})`,
);
const s3Emulator = STORES.includes("s3") ? await startS3Emulator("bench") : undefined;
const dynamoDBEmulator = STORES.includes("dynamodb") ? await startDynamoDBEmulator() : undefined;
const started = performance.now();
const summary = {};
const raw = {};
const runsMax = Math.max(...VARIANTS.map(runsFor));
for (const n of NS) {
  const samples = {};
  if (STORES.includes("fs")) samples.floor = Object.fromEntries(FLOORS.map((f) => [f.label, []]));
  for (const v of VARIANTS) samples[v.key] = Object.fromEntries(stepsFor(v).filter((s) => s.timed).map((s) => [s.label, []]));
  for (let run = 1; run <= runsMax; run++) {
    // variants interleaved run by run, so drift on the machine hits all alike
    for (const v of VARIANTS) if (run <= runsFor(v)) await runVariant(v, n, run, samples);
    if (STORES.includes("fs") && run <= RUNS) await runFloor(n, run, samples);
  }
  raw[n] = samples;
  summary[n] = summarize(samples);
}
await s3Emulator?.stop();
await dynamoDBEmulator?.stop();
const totalS = (performance.now() - started) / 1000;
const loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(" ");

const md = [];
md.push(ONLY_DEFAULT_STORE ? "## Benchmark: ours vs Alchemy 0.94" : `## Benchmark: ours vs Alchemy 0.94, stores ${STORES.join(", ")}`);
md.push("");
const runsText = RUNS_V094 !== RUNS && ENGINES.includes("v094") ? `median of ${RUNS} run(s) for ours and ${RUNS_V094} for Alchemy 0.94` : `median of ${RUNS} run(s)`;
const storesText = ONLY_DEFAULT_STORE
  ? `state in the default filesystem store under ${m.tmpdir}`
  : `state stores: ${STORES.map((s) => STORE_NAME[s]).join(", ")}, temp dirs under ${m.tmpdir}${m.postgres ? `, PostgreSQL ${m.postgres} at ${PG_URL.replace(/\/\/[^@/]*@/, "//")} (a fresh schema per run)` : ""}`;
md.push(
  `${m.date.slice(0, 10)}, commit ${m.commit}, ${m.cpu}, ${m.memoryGB} GB, ${m.platform}, Node ${m.node}; ` +
    `${runsText}, each phase its own process; loader: ${LOADER === "tsx" ? "`node --import tsx --conditions=source` for both engines" : "plain `node` for both engines (ours from dist/)"}; ` +
    `${storesText}` +
    (LOCKINGS.length === 1 && LOCKINGS[0] === "off" ? "; ours with `stateLocking: false`" : "") +
    ".",
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
if (!ONLY_DEFAULT_STORE) {
  const storeLines = [];
  if (STORES.includes("sqlite")) {
    storeLines.push(
      "- SQLite, ours: `SQLiteStateStore` on `<tmp>/state.sqlite` (better-sqlite3, WAL, `synchronous = FULL`, group commit)." +
        (ENGINES.includes("v094")
          ? " Alchemy 0.94: its `SQLiteStateStore` class, operations, drizzle schema and migrations, run on drizzle's better-sqlite3 driver with `synchronous = FULL` " +
            "(0.94 on Node only supports `@libsql/client`, which is not installed; see bench/v094-sqlite-store.mjs)."
          : ""),
    );
  }
  if (STORES.includes("postgres")) storeLines.push("- PostgreSQL, ours: `PostgresStateStore`, a fresh schema per run (created before, dropped after). Alchemy 0.94 is not run on it.");
  if (STORES.includes("s3")) {
    storeLines.push(
      "- S3, ours: `S3StateStore` against s3rver in a local child process (the tests' emulator, with conditional writes added), a fresh prefix and a fresh record cache " +
        "(`ALCHEMY_CACHE_DIR`) per run; *" + EMPTY_CACHE_PHASE + "* is a second no-op redeploy with an empty cache directory, as on a machine that has not read the stage before. " +
        "The request counts are what the emulator received during each phase's process. A local emulator has no network latency: on AWS each request costs a round trip. Alchemy 0.94 is not run on it.",
    );
  }
  if (STORES.includes("dynamodb")) {
    storeLines.push(
      "- DynamoDB, ours: `DynamoDBStateStore` against dynalite (in memory) in a local child process, a fresh table per run (`createTable: true`); " +
        "the request counts are the requests that reached dynalite during each phase's process, by operation (`X-Amz-Target`). No network latency either. Alchemy 0.94 is not run on it.",
    );
  }
  if (STORES.some((s) => CLOUD_STORES.includes(s))) storeLines.push("- The emulators show what our client sends and that the engine's work is correct against them; they say nothing of AWS's own latency, throttling or limits.");
  storeLines.push(
    "- State checked after every phase through the store itself (ours: the store's factory, walking listScopes/all in a separate process; " +
      "0.94 SQLite: its `resources` table); a no-op redeploy that rewrites records (seq changed) is reported in the notes.",
  );
  md.push(...storeLines, "");
}
for (const n of NS) {
  if (!ONLY_DEFAULT_STORE || LOCKINGS.length > 1) md.push(...overviewTable(n, summary[n]));
  for (const store of STORES) {
    if (store === "postgres") {
      if (ENGINES.includes("ours")) md.push(...postgresTable(n, summary[n]));
    } else if (CLOUD_STORES.includes(store)) {
      if (ENGINES.includes("ours")) md.push(...cloudTable(store, n, summary[n][oursKey(store)], summary[n][oursKey("fs")]));
    } else md.push(...versusTable(n, store, summary[n]));
  }
  if (LOCKINGS.length > 1 && ENGINES.includes("ours")) md.push(...lockingTable(n, summary[n]));
}
md.push(...growthTable(summary));
md.push(...targets(summary));
const stderrNotes = [...stderrSeen].map(([text, { first, count }]) => `${first}${count > 1 ? ` (and ${count - 1} more process(es))` : ""} wrote to stderr: ${text}`);
if (notes.length || stderrNotes.length) {
  md.push("Notes:", "", ...[...notes, ...stderrNotes].map((x) => `- ${x}`), "");
}
md.push(`Total bench time: ${totalS.toFixed(0)} s; load average at start ${m.loadavg}, at end ${loadEnd} (${os.cpus().length} CPUs; other load on the machine makes the numbers noisy).`);
const text = md.join("\n") + "\n";

await mkdir(join(BENCH_DIR, "results"), { recursive: true });
await writeFile(join(BENCH_DIR, "results", `${OUT}.md`), text);
await writeFile(
  join(BENCH_DIR, "results", `${OUT}.json`),
  JSON.stringify(
    {
      machine: { ...m, loadavgEnd: loadEnd },
      config: { NS, RUNS, RUNS_V094, LOADER, ENGINES, STORES, LOCKINGS, variants: VARIANTS },
      summary,
      raw,
      notes,
      stderr: Object.fromEntries(stderrSeen),
      totalS,
    },
    null,
    2,
  ) + "\n",
);
process.stdout.write("\n" + text);
