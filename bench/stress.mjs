#!/usr/bin/env node
// `npm run stress`: the long state stress run (see src/state/stress.test-fixture.ts) on every store:
// deploys (cold, update all, orphan delete, destroy) racing with looping readers (state list,
// state export, plan, stages), a second deploy of the same stage, and SIGKILL or SIGSTOP/SIGCONT
// of the deployer at random points; every check after every round, and nothing left at the end.
//
//   STRESS_ROUNDS=40 STRESS_RESOURCES=300 STRESS_STORES=file,sqlite,postgres STRESS_SEED=1 npm run stress
//
// Uses the build in dist/ (run `npm run build` first). PostgreSQL: STRESS_PG_URL (default the local
// test database); each run gets its own schema, dropped afterwards. Exits 1 if any check failed.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";

const { runStress } = await import("../src/state/stress.test-fixture.ts");
const rounds = Number(process.env.STRESS_ROUNDS ?? "40");
const resources = Number(process.env.STRESS_RESOURCES ?? "300");
const stores = (process.env.STRESS_STORES ?? "file,sqlite,postgres").split(",");
const seed = Number(process.env.STRESS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const pgUrl = process.env.STRESS_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

execFileSync("npm", ["run", "build", "--silent"], { stdio: "inherit" });
const rows = [];
let failed = false;
for (const store of stores) {
  let url = store === "file" ? "file:.alchemy" : store === "sqlite" ? "sqlite:state.sqlite" : store;
  let schema;
  if (store === "postgres") {
    schema = `stress_${process.pid}_${randomBytes(4).toString("hex")}`;
    url = `${pgUrl}?schema=${schema}`;
  }
  try {
    const report = await runStress({ store: url, rounds, resources, seed, cli: "dist", log: (line) => console.error(`[${store}] ${line}`) });
    const reads = Object.values(report.reads).reduce((a, b) => a + b, 0);
    rows.push(
      `| ${store} | ${report.rounds} | ${report.deploys} | ${report.kills} | ${report.pauses} (${report.takeovers} taken over${report.blockedByPausedWrite ? `, ${report.blockedByPausedWrite} blocked by a paused write` : ""}) | ${report.lockRaceLosers} | ${reads} | ${report.failures.length} | ${report.violations.length} | ${(report.elapsedMs / 1000).toFixed(0)} s |`,
    );
    for (const line of [...report.failures, ...report.violations]) console.error(`[${store}] ${line}`);
    failed ||= report.failures.length + report.violations.length > 0;
  } finally {
    if (schema) {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }
}
console.log(`\nStress run, seed ${seed}, ${resources} resources, ${rounds} rounds per store:\n`);
console.log("| store | rounds | deploys | SIGKILLs | SIGSTOPs | lock races lost | reads | failed commands | failed checks | time |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
process.exit(failed ? 1 : 0);
