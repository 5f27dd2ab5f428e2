/**
 * Child process of the cross-process stage lock tests: one long-lived
 * contender for the lock of one stage, driven line by line on stdin.
 *
 * Run: node --conditions source --import <repo>/node_modules/tsx/dist/loader.mjs
 *      lock-contender.test-fixture.ts <storeUrl> <app> <stage>
 *
 * Prints `{"ready":true,"pid":...}` once the stage store is open, then answers
 * each command with one JSON line:
 * - `lock`: tries once (`timeoutMs: 0`, lease 30 s) ->
 *   `{"won":true,"id":...,"tookOverFrom":...}` or `{"won":false,"error":"StageLockedError: ..."}`
 * - `release`: releases the lock it holds, if any -> `{"released":true}`
 * - `exit`: closes the store and exits 0.
 *
 * @module
 */
import os from "node:os";
import readline from "node:readline";
import { pathToFileURL } from "node:url";
import { canLock, type LockHolder, type StageLock } from "./stage-lock.js";
import { parseStoreUrl, storeFactory } from "./store-url.js";

/** The lease every contender asks for. */
export const CONTENDER_LEASE_MS = 30_000;

async function main(url: string, app: string, stage: string): Promise<void> {
  const store = storeFactory(parseStoreUrl(url, process.cwd()))({ chain: [app, stage] });
  if (!canLock(store)) throw new Error(`The store of ${url} cannot lock stages.`);
  await store.init?.();
  const holder: LockHolder = { user: "contender", host: os.hostname(), pid: process.pid, command: `lock-contender ${app}/${stage}` };
  const reply = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
  let held: StageLock | undefined;
  reply({ ready: true, pid: process.pid });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const command = line.trim();
    if (command === "lock") {
      try {
        held = await store.lock({ holder, leaseMs: CONTENDER_LEASE_MS, timeoutMs: 0 });
        reply({ won: true, id: held.info.id, tookOverFrom: held.tookOverFrom?.id });
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        reply({ won: false, error: `${e.name}: ${e.message}` });
      }
    } else if (command === "release") {
      await held?.release();
      held = undefined;
      reply({ released: true });
    } else if (command === "exit") {
      break;
    } else if (command !== "") {
      reply({ error: `unknown command "${command}": use lock, release or exit` });
    }
  }
  await held?.release();
  await store.deinit?.();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [url, app, stage] = process.argv.slice(2);
  if (!url || !app || !stage) {
    process.stderr.write("usage: lock-contender.test-fixture.ts <storeUrl> <app> <stage>\n");
    process.exit(2);
  }
  await main(url, app, stage);
  process.exit(0);
}
