// The benchmark's baseline, Alchemy 0.94 (npm alias "alchemy-v094"), lives apart from
// the project: its package is bench/v094/ (package.json and package-lock.json), installed
// on first use with `npm ci` into bench/v094/node_modules (gitignored, about 500 MB:
// wrangler, miniflare, workerd, sharp). The project's own install does not include it.
//
// bench/node_modules is a link to bench/v094/node_modules, so every script under bench/
// imports "alchemy-v094" (and its drizzle-orm) by name, the same way as before. bench/
// itself has no package.json on purpose: one there would make bench/ a package of its
// own, and the scripts that import this project as "alchemy" (workload-ours.mjs,
// stores-ours.mjs, secrets.mjs) would no longer resolve it (self-reference works only
// inside the package that has the name).
//
// `npm run bench` calls ensureBenchInstall(); a script under bench/ that needs Alchemy
// 0.94 can do the same, or run `node scripts/bench-install.mjs` first.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync, readlinkSync, symlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BENCH = path.join(ROOT, "bench");
/** The benchmark's own package (the Alchemy 0.94 baseline). */
export const BENCH_PACKAGE_DIR = path.join(BENCH, "v094");
const LINK = path.join(BENCH, "node_modules");
const LINK_TARGET = path.join("v094", "node_modules");
const V094_VERSION = "0.94.0";

/**
 * Installs the baseline once (`npm ci` in bench/v094) and links bench/node_modules to it.
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {string} the directory of the installed alchemy-v094 package
 */
export function ensureBenchInstall({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const pkgDir = path.join(BENCH_PACKAGE_DIR, "node_modules", "alchemy-v094");
  if (installedVersion(pkgDir) !== V094_VERSION) {
    log(`bench: installing Alchemy ${V094_VERSION} into bench/v094/node_modules (first use; a few hundred MB, a minute or two) ...`);
    const npm = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: BENCH_PACKAGE_DIR,
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (npm.error) throw new Error(`bench: could not run npm ci in ${BENCH_PACKAGE_DIR}: ${npm.error.message}`, { cause: npm.error });
    if (npm.status !== 0) throw new Error(`bench: npm ci in ${BENCH_PACKAGE_DIR} exited with ${npm.status ?? npm.signal}`);
    const version = installedVersion(pkgDir);
    if (version !== V094_VERSION) throw new Error(`bench: after npm ci, ${pkgDir} holds alchemy ${version ?? "nothing"}, expected ${V094_VERSION}`);
  }
  ensureLink();
  return pkgDir;
}

function installedVersion(pkgDir) {
  try {
    return JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

function ensureLink() {
  let stat;
  try {
    stat = lstatSync(LINK);
  } catch {}
  if (stat?.isSymbolicLink() && path.resolve(BENCH, readlinkSync(LINK)) === path.resolve(BENCH, LINK_TARGET)) return;
  if (stat) {
    throw new Error(`bench: ${LINK} should be a link to ${LINK_TARGET} (where Alchemy 0.94 is installed); remove it and run again`);
  }
  try {
    // A junction on Windows (needs an absolute target), a relative symlink elsewhere.
    symlinkSync(process.platform === "win32" ? path.join(BENCH, LINK_TARGET) : LINK_TARGET, LINK, "junction");
  } catch (error) {
    // Made by a concurrent run in the meantime.
    if (error.code !== "EEXIST" || !existsSync(LINK)) throw error;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(ensureBenchInstall());
}
