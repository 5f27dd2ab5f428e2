/**
 * The environment a test's child process starts with: `PATH` and `HOME` from the
 * test runner, a fixed `USER`, what the runner itself needs its children to keep,
 * then the test's own variables. Nothing else of the developer's environment leaks
 * into what a test checks.
 *
 * What the runner needs kept: on the suite's Node 24 run (scripts/node24.mjs) the
 * module hook that loads better-sqlite3's Node 24 build, since the root's build is
 * for Node 20 and a child without the hook cannot open a SQLite store.
 *
 * @module
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PRELOAD = pathToFileURL(path.resolve(fileURLToPath(new URL("..", import.meta.url)), "scripts", "node24-preload.mjs")).href;

/** The variables every test child inherits from the runner (empty outside the Node 24 run). */
export function runnerEnv(): NodeJS.ProcessEnv {
  const from = process.env.ALCHEMY_NODE24_SQLITE_ADDON_FROM;
  const to = process.env.ALCHEMY_NODE24_SQLITE_ADDON_TO;
  if (!from || !to) return {};
  return { ALCHEMY_NODE24_SQLITE_ADDON_FROM: from, ALCHEMY_NODE24_SQLITE_ADDON_TO: to, NODE_OPTIONS: `--import=${PRELOAD}` };
}

/** `PATH`, `HOME`, `USER=tester`, the suite's record cache directory and the runner's variables, then `env` (which wins). */
export function childEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const cache = process.env.ALCHEMY_CACHE_DIR ? { ALCHEMY_CACHE_DIR: process.env.ALCHEMY_CACHE_DIR } : {};
  return { PATH: process.env.PATH, HOME: process.env.HOME, USER: "tester", ...cache, ...runnerEnv(), ...env };
}
