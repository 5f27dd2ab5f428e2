// Writes the Alchemy 0.94 fixture of `alchemy state import --from alchemy-0.94`
// with Alchemy 0.94 itself (the benchmark's install of it, npm alias
// "alchemy-v094", installed on first use like `npm run bench` does):
// src/state/import-v094/fixtures/v094-state/ is the `.alchemy`
// directory Alchemy 0.94 leaves after deploying the program in
// src/state/import-v094/fixtures/storefront.mjs twice (the second deploy
// changes one prop, so the state holds created and updated records).
//
//   node bench/v094-fixture/generate.mjs
//
// Each deploy runs in a child process of its own, as a user's deploys do:
// Alchemy 0.94 keeps its registries on globalThis and reads process.argv
// (--stage, --destroy, ...), so the children get no arguments and their
// settings come from the environment. Telemetry is off
// (ALCHEMY_TELEMETRY_DISABLED=1, DO_NOT_TRACK=1).
//
// A third deploy, whose worker update fails, leaves v094-interrupted/: the same
// state with the worker's record left `updating` by 0.94.
//
// The output differs from run to run only in its ciphertexts (each secret is
// encrypted with a fresh salt and IV). Commit it with the change that needs it.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../..");
const FIXTURES = path.join(REPO, "src/state/import-v094/fixtures");
const OUT = path.join(FIXTURES, "v094-state");
const INTERRUPTED = path.join(FIXTURES, "v094-interrupted");
const ROUNDS = ["staging", "live"];
const program = await import(pathToFileURL(path.join(FIXTURES, "storefront.mjs")).href);

if (process.env.V094_FIXTURE_DIR) {
  await deploy(process.env.V094_FIXTURE_DIR, process.env.V094_FIXTURE_MODE);
} else {
  // First use: install the benchmark's Alchemy 0.94, as `npm run bench` does.
  const install = path.join(REPO, "scripts/bench-install.mjs");
  if (!resolvesV094() && existsSync(install)) (await import(pathToFileURL(install).href)).ensureBenchInstall();
  generate();
}

/** Parent: one child per deploy into a temp directory, then the result copied into the fixtures. */
function generate() {
  const dir = mkdtempSync(path.join(tmpdir(), "v094-fixture-"));
  try {
    for (const mode of ROUNDS) {
      const status = deployInChild(dir, mode);
      if (status !== 0) throw new Error(`Alchemy 0.94 deploy (mode ${mode}) exited with ${status}`);
    }
    rmSync(OUT, { recursive: true, force: true });
    cpSync(path.join(dir, ".alchemy"), OUT, { recursive: true });
    if (deployInChild(dir, "fail") === 0) throw new Error("Alchemy 0.94 deploy (mode fail) succeeded; it should have failed");
    rmSync(INTERRUPTED, { recursive: true, force: true });
    cpSync(path.join(dir, ".alchemy"), INTERRUPTED, { recursive: true });
    console.log(`Wrote ${path.relative(REPO, OUT)} and ${path.relative(REPO, INTERRUPTED)} with Alchemy ${v094Version()}.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One deploy of the storefront by Alchemy 0.94 in a child process; resolves to its exit status. */
function deployInChild(dir, mode) {
  if (mode === "fail") console.log("Deploying with mode fail: Alchemy 0.94 reports the worker's failed update below, on purpose.");
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
    cwd: dir,
    stdio: "inherit",
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      USER: process.env.USER,
      ALCHEMY_TELEMETRY_DISABLED: "1",
      DO_NOT_TRACK: "1",
      ALCHEMY_CI_STATE_STORE_CHECK: "false",
      ALCHEMY_PASSWORD: program.PASSWORD,
      V094_FIXTURE_DIR: dir,
      V094_FIXTURE_MODE: mode,
    },
  });
  return child.status ?? child.signal;
}

/** Child: one deploy of the storefront with Alchemy 0.94. */
async function deploy(dir, mode) {
  if (!process.env.ALCHEMY_TELEMETRY_DISABLED) throw new Error("ALCHEMY_TELEMETRY_DISABLED=1 is required");
  const version = v094Version();
  if (version !== "0.94.0") throw new Error(`alchemy-v094 resolves to Alchemy ${version}, expected 0.94.0`);
  const { default: alchemy, Resource } = await import("alchemy-v094");
  await program.storefront({ alchemy, Resource, mode, options: { rootDir: dir, quiet: true } });
}

function resolvesV094() {
  try {
    import.meta.resolve("alchemy-v094");
    return true;
  } catch {
    return false;
  }
}

function v094Version() {
  const entry = fileURLToPath(import.meta.resolve("alchemy-v094"));
  // lib/index.js -> the package root
  return JSON.parse(readFileSync(path.join(path.dirname(entry), "..", "package.json"), "utf8")).version;
}
