// One benchmark phase in one process, shared by both engines.
//
// The engine-specific entry points (workload-ours.mjs, workload-v094.mjs) import
// their engine and call runWorkload(). Everything else is identical, so the two
// engines run the exact same program.
//
// Configuration comes from the environment (never argv: Alchemy 0.94 parses
// process.argv for --destroy/--stage/--app/--root-dir/...):
//   BENCH_WL_N         number of resources (split: half at stage level, half over 10 nested scopes)
//   BENCH_WL_OP        "deploy" | "destroy"
//   BENCH_WL_V         value of the `v` prop (update-all bumps it)
//   BENCH_WL_HALF      "1": declare only the first half of every group (orphan-delete half)
//   BENCH_WL_DIR       rootDir; state lands in <dir>/.alchemy/bench/s/...
//   BENCH_WL_STRATEGY  "sequential" | "parallel" (destroyStrategy)
//   BENCH_WL_LABEL     phase label echoed in the result line
//   BENCH_WL_STORE     "fs" | "sqlite" | "postgres" | "s3" | "dynamodb" (read by the engine entry points,
//                      which pass the store to runWorkload as an alchemy() option)
//
// Output: exactly one line on stdout starting with "BENCH_RESULT " followed by
// JSON { engine, label, op, n, ms, maxRssMB, cpuMs, viaExit, code }, written from the process
// "exit" handler so that it is also printed when the engine calls process.exit()
// itself (Alchemy 0.94 does so in phase "destroy": alchemy() destroys the stage
// and exits without ever returning to the program).
//
// `ms` is measured in-process from just before `alchemy(...)` to just after
// `finalize()` (or to process exit when the engine exits by itself). Module
// loading (engine import, tsx transpilation) is outside this window.
import { writeSync } from "node:fs";

export const APP = "bench";
export const STAGE = "s";
export const NESTED_SCOPES = 10;
export const KIND = "bench::Noop";

/**
 * The resource layout for N: `stage` ids at stage level, `nested[k]` ids inside
 * scope `nested-k`. With `half`, only the first half of every group.
 */
export function layout(n, half = false) {
  const stageCount = Math.floor(n / 2);
  const rest = n - stageCount;
  const nested = [];
  for (let k = 0; k < NESTED_SCOPES; k++) {
    // spread the remainder over the first scopes
    nested.push(Math.floor(rest / NESTED_SCOPES) + (k < rest % NESTED_SCOPES ? 1 : 0));
  }
  const take = (c) => (half ? Math.floor(c / 2) : c);
  return {
    stage: Array.from({ length: take(stageCount) }, (_, i) => `r${i}`),
    nested: nested.map((c, k) => ({
      scope: `nested-${k}`,
      ids: Array.from({ length: take(c) }, (_, i) => `r${i}`),
    })),
  };
}

/** The fqns `app/stage[/nested-k]/id` expected in state for N (and half). */
export function expectedFqns(n, half = false) {
  const l = layout(n, half);
  const out = new Set();
  for (const id of l.stage) out.add(`${APP}/${STAGE}/${id}`);
  for (const g of l.nested) for (const id of g.ids) out.add(`${APP}/${STAGE}/${g.scope}/${id}`);
  return out;
}

function config() {
  const env = process.env;
  const n = Number(env.BENCH_WL_N);
  const op = env.BENCH_WL_OP;
  const dir = env.BENCH_WL_DIR;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`BENCH_WL_N must be a positive integer, got ${env.BENCH_WL_N}`);
  if (op !== "deploy" && op !== "destroy") throw new Error(`BENCH_WL_OP must be deploy|destroy, got ${op}`);
  if (!dir) throw new Error("BENCH_WL_DIR is required");
  return {
    n,
    op,
    dir,
    v: Number(env.BENCH_WL_V ?? "1"),
    half: env.BENCH_WL_HALF === "1",
    strategy: env.BENCH_WL_STRATEGY === "parallel" ? "parallel" : "sequential",
    label: env.BENCH_WL_LABEL ?? op,
  };
}

/**
 * @param {{ engine: string, alchemy: any, Resource: any, options?: object, extra?: object }} engine
 * `options` are added to the alchemy() options (stateStore, stateLocking);
 * `extra` is copied into the result line.
 */
export async function runWorkload({ engine, alchemy, Resource, options = {}, extra = {} }) {
  const cfg = config();

  // A resource kind that does no I/O of its own (the same source for both engines).
  const Noop = Resource(KIND, async function (id, props) {
    if (this.phase === "delete") return this.destroy();
    return { v: props.v };
  });

  let t0 = 0;
  let t1;
  process.on("exit", (code) => {
    const end = t1 ?? performance.now();
    const usage = process.resourceUsage();
    const result = {
      ...extra,
      engine,
      label: cfg.label,
      op: cfg.op,
      n: cfg.n,
      ms: t0 === 0 ? null : end - t0,
      maxRssMB: usage.maxRSS / 1024, // maxRSS is in KiB
      // CPU time of the whole process (user + system, all threads), start-up included
      cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
      viaExit: t1 === undefined,
      code,
    };
    writeSync(1, `BENCH_RESULT ${JSON.stringify(result)}\n`);
  });

  const l = layout(cfg.n, cfg.half);

  t0 = performance.now();
  const app = await alchemy(APP, {
    stage: STAGE,
    rootDir: cfg.dir,
    phase: cfg.op === "destroy" ? "destroy" : "up",
    destroyStrategy: cfg.strategy,
    quiet: true,
    ...options,
  });
  if (cfg.op === "deploy") {
    // Declared concurrently: every stage-level resource and every nested scope
    // (each of which declares its own resources concurrently) at once.
    await Promise.all([
      ...l.stage.map((id) => Noop(id, { v: cfg.v })),
      ...l.nested.map((g) =>
        alchemy.run(g.scope, async () => {
          await Promise.all(g.ids.map((id) => Noop(id, { v: cfg.v })));
        }),
      ),
    ]);
  }
  // In phase "destroy" nothing is declared: finalize() destroys the whole stage.
  // (Alchemy 0.94 never gets here in that phase: alchemy() destroys and exits.)
  await app.finalize();
  t1 = performance.now();
}
