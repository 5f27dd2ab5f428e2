// Reads back the stage a phase left, through our store itself (not its files or
// tables): opens the stage scope with the store's factory, walks `listScopes`
// down the tree and reads every scope with `all()` (checked against `count()`
// and `list()`), then writes to the file BENCH_VERIFY_OUT the JSON
//   { records: [[fqn, scopePath, id, kind, status, seq, v], ...], scopes, lock, problems }
// (a file, not stdout: at N = 10,000 that is ~1 MB) and prints "BENCH_STATE ok".
// run.mjs compares it with what the phase should have left.
// Same environment as workload-ours.mjs (BENCH_WL_STORE, BENCH_WL_DIR, BENCH_WL_PG_*, BENCH_WL_S3_*, BENCH_WL_DYNAMODB_*),
// same loader as the engine.
import { writeFileSync } from "node:fs";
import { APP, STAGE } from "./workload-shared.mjs";
import { oursFactory } from "./stores-ours.mjs";

const { factory } = await oursFactory();
const opened = [];
async function open(chain) {
  const store = factory({ chain });
  await store.init?.();
  opened.push(store);
  return store;
}

const records = [];
const problems = [];
let scopes = 0;
let lock;
try {
  const app = await open([APP]);
  const stages = await app.listScopes();
  async function walk(chain) {
    scopes++;
    const store = await open(chain);
    const [all, ids, count, children] = await Promise.all([store.all(), store.list(), store.count(), store.listScopes()]);
    const path = chain.join("/");
    const keys = Object.keys(all);
    if (keys.length !== count) problems.push(`${path}: all() has ${keys.length} records, count() says ${count}`);
    if (ids.length !== keys.length || ids.some((id) => !(id in all))) problems.push(`${path}: list() (${ids.length} ids) disagrees with all() (${keys.length})`);
    for (const [id, s] of Object.entries(all)) {
      if (s.id !== id) problems.push(`${path}: record under id ${id} says id ${s.id}`);
      records.push([s.fqn, path, id, s.kind, s.status, s.seq, s.props?.v]);
    }
    for (const child of children) await walk([...chain, child]);
  }
  // The stage is walked whether or not the application scope lists it (it
  // should exactly when it holds records; checked below).
  await walk([APP, STAGE]);
  const listed = stages.includes(STAGE);
  if (listed !== records.length > 0) problems.push(`application scope ${listed ? "lists" : "does not list"} stage ${STAGE}, which holds ${records.length} records`);
  const stageStore = opened[1];
  if (typeof stageStore.lockInfo === "function") {
    const info = await stageStore.lockInfo();
    if (info) lock = { id: info.id, holder: info.holder, heartbeatAt: info.heartbeatAt };
  }
} finally {
  for (const s of opened.reverse()) await s.deinit?.();
}
const out = process.env.BENCH_VERIFY_OUT;
if (!out) throw new Error("BENCH_VERIFY_OUT is required");
writeFileSync(out, JSON.stringify({ records, scopes, lock, problems }));
process.stdout.write("BENCH_STATE ok\n");
