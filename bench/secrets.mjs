#!/usr/bin/env node
// `npm run bench:secrets`: what secrets cost. Deploys and then updates N
// resources (default 1,000) whose props each hold an alchemy.secret(), against
// the same resources with plain strings, on the filesystem store; reports wall
// time (median of BENCH_RUNS, default 5) and how many scrypt key derivations
// each run made (one per run, whatever N is), plus one derivation on its own.
//
// Run from the repository root: node --import tsx --conditions=source bench/secrets.mjs
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const N = Number(process.env.BENCH_SECRETS_N ?? "1000");
const RUNS = Number(process.env.BENCH_RUNS ?? "5");
const { default: alchemy, Resource } = await import("alchemy");
const { keyDerivations, deriveKey, DEFAULT_KDF } = await import("../src/core/secrets/secret-box.ts");

const Thing = Resource("bench::SecretThing", async function (_id, props) {
  if (this.phase === "delete") return this.destroy();
  return { length: typeof props.value === "string" ? props.value.length : props.value.unwrap().length };
});

async function deploy(dir, round, secret) {
  const started = performance.now();
  const app = await alchemy("bench", { stage: "s", rootDir: dir, quiet: true, password: "bench password" });
  await Promise.all(Array.from({ length: N }, (_, i) => Thing(`r${i}`, { value: secret ? alchemy.secret(`v${round}-${i}`) : `v${round}-${i}` })));
  await app.finalize();
  return performance.now() - started;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const secret of [false, true]) {
  const create = [];
  const update = [];
  const derivations = [];
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "alchemy-bench-secrets-"));
    try {
      const before = keyDerivations();
      create.push(await deploy(dir, 1, secret));
      derivations.push(keyDerivations() - before);
      const mid = keyDerivations();
      update.push(await deploy(dir, 2, secret));
      derivations.push(keyDerivations() - mid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rows.push({ props: secret ? "alchemy.secret()" : "plain string", create: median(create), update: median(update), derivations: Math.max(...derivations) });
}
const single = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  await deriveKey("bench password", "c2FsdHNhbHRzYWx0c2FsdA", DEFAULT_KDF);
  single.push(performance.now() - t);
}
console.log(`N = ${N}, median of ${RUNS} runs, filesystem store\n`);
console.log("| props | create (ms) | update all (ms) | key derivations per run |");
console.log("|---|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.props} | ${r.create.toFixed(0)} | ${r.update.toFixed(0)} | ${r.derivations} |`);
console.log(`\nOne scrypt derivation (N=2^15, r=8, p=1): ${median(single).toFixed(0)} ms.`);
