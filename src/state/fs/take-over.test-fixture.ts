/**
 * Test helper: another process takes over a stage's stale lock and exits
 * still holding it, as a run that took over and then crashed (or is still
 * running elsewhere) leaves it. For the tests of fencing across processes.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../..", import.meta.url));
const storeUrlModule = path.join(repo, "src/state/store-url.ts");

/** The lock the other process took, and the id of the lock it replaced. */
export interface TakenOver {
  id: string;
  tookOverFrom?: string;
}

/**
 * Runs a separate Node.js process that opens the store of `storeUrl` (as
 * `parseStoreUrl` reads it: `file:<dir>`, `sqlite:<file>`), takes the lock of
 * `app/stage` (taking over a stale one), and exits without releasing it.
 *
 * @throws Error with the child's stderr when it fails or the stage is held by a live lock.
 * @example
 * const taken = takeOverInAnotherProcess(`file:${dir}`, "app", "dev");
 * expect(taken.tookOverFrom).toBe(myLock.info.id);
 */
export function takeOverInAnotherProcess(storeUrl: string, app: string, stage: string): TakenOver {
  const script = `
    import { parseStoreUrl, storeFactory } from ${JSON.stringify(storeUrlModule)};
    const [url, app, stage] = process.argv.slice(1);
    const store = storeFactory(parseStoreUrl(url, process.cwd()))({ chain: [app, stage] });
    const lock = await store.lock({
      // Another host: nobody here takes the lock for a dead process's once this one exits.
      holder: { user: "taker", host: "another-host", pid: process.pid, command: "take-over fixture" },
      leaseMs: 30000,
      timeoutMs: 0,
    });
    process.stdout.write(JSON.stringify({ id: lock.info.id, tookOverFrom: lock.tookOverFrom?.id }));
    process.exit(0); // still holding the lock
  `;
  const stdout = execFileSync(
    process.execPath,
    ["--conditions", "source", "--import", path.join(repo, "node_modules/tsx/dist/loader.mjs"), "--input-type=module", "-e", script, storeUrl, app, stage],
    { cwd: repo, encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] },
  );
  return JSON.parse(stdout) as TakenOver;
}
