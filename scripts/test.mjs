#!/usr/bin/env node
// `npm test`: the whole vitest suite on the Node running this script (Node 20 on these
// machines), then again on Node 24 (installed on first use, see node24.mjs). Prints one
// line per Node version, then ends with one line: "N passed, N failed[, N skipped]",
// the sum over both runs. Arguments are passed to vitest in both runs.
//
// SKIP_NODE24=1 runs the current Node only (local development); .ci/run unsets it.
// On Node 24 itself the suite runs once.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureNode24 } from "./node24.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const VITEST = path.join(ROOT, "node_modules", "vitest", "vitest.mjs");
const args = process.argv.slice(2);

/** One vitest run on `node`; returns its counts (a run that reports nothing counts as one failure). */
function runSuite(node, env) {
  const dir = mkdtempSync(path.join(tmpdir(), "alchemy-test-report-"));
  const report = path.join(dir, "report.json");
  const started = performance.now();
  const run = spawnSync(node, [VITEST, "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...args], {
    cwd: ROOT,
    env,
    stdio: "inherit",
  });
  const counts = { passed: 0, failed: 0, skipped: 0, seconds: (performance.now() - started) / 1000 };
  try {
    const result = JSON.parse(readFileSync(report, "utf8"));
    counts.passed = result.numPassedTests;
    counts.failed = result.numFailedTests;
    counts.skipped = result.numPendingTests + result.numTodoTests;
    // A test file that failed to load has no tests but is a failure.
    counts.failed += result.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0).length;
  } catch {
    counts.failed = Math.max(counts.failed, 1);
  }
  rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0 && counts.failed === 0) {
    console.error(`vitest exited with ${run.status ?? run.signal} and no failed test (an unhandled error?): counted as one failure`);
    counts.failed = 1;
  }
  return counts;
}

const format = ({ passed, failed, skipped }) => `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;

// Colours only on a terminal: a log redirected to a file (CI's) gets plain text. vitest
// would colour it whenever CI is set, and the engine's output in tests likewise.
const colour = process.stdout.isTTY || Boolean(process.env.FORCE_COLOR);
const suiteEnv = (env) => (colour ? env : { ...env, NO_COLOR: "1" });

const runs = [];
runs.push({ label: `Node ${process.version}`, ...runSuite(process.execPath, suiteEnv(process.env)) });

const currentMajor = Number(process.versions.node.split(".")[0]);
if (currentMajor === 24) {
  // Already on Node 24: the run above is the Node 24 run.
} else if (process.env.SKIP_NODE24 && process.env.SKIP_NODE24 !== "0") {
  console.log("\nNode 24 run skipped (SKIP_NODE24 is set); .ci/run always runs it.");
} else {
  console.log("\n==> The whole suite again on Node 24");
  let node24;
  try {
    node24 = ensureNode24();
  } catch (error) {
    console.error(`Node 24 run: ${error.message}`);
    runs.push({ label: "Node 24 (not installed)", passed: 0, failed: 1, skipped: 0, seconds: 0 });
  }
  if (node24) runs.push({ label: `Node v${node24.version}`, ...runSuite(node24.node, suiteEnv(node24.env)) });
}

const total = runs.reduce(
  (sum, r) => ({ passed: sum.passed + r.passed, failed: sum.failed + r.failed, skipped: sum.skipped + r.skipped }),
  { passed: 0, failed: 0, skipped: 0 },
);
console.log("");
for (const r of runs) console.log(`${r.label}: ${format(r)} (${r.seconds.toFixed(0)} s)`);
console.log(format(total));
process.exit(total.failed > 0 ? 1 : 0);
