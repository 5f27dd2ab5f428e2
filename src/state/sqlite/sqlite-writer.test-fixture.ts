/**
 * Child process of the SQLite store's multi-process tests. Two modes:
 *
 * - `stream <filename>`: sets and deletes records concurrently and prints
 *   `set <scope> <id>` / `del <scope> <id>` once each call has resolved, until killed.
 * - `burst <filename> <name> <count> <startAt>`: waits until `startAt` (ms
 *   since the epoch), writes `count` records named `<name>-<n>` from 16
 *   concurrent writers, then prints `done`.
 *
 * Run: node --import tsx --conditions source sqlite-writer.test-fixture.ts stream /abs/state.sqlite
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import type { State } from "../state-store.js";
import { SQLiteStateStore } from "./sqlite-state-store.js";

/** The scopes the child writes to. */
export const WRITER_CHAINS = [["app", "dev"], ["app", "dev", "nested"]] as const;

/** In `stream` mode, every record whose number is a multiple of this is deleted right after its set resolves. */
export const DELETE_EVERY = 5;

/** The exact record the child writes for `id` in scope `chain`; sizes vary up to ~40 KB. */
export function writerRecord(chain: readonly string[], id: string): State {
  const n = Number(id.slice(id.lastIndexOf("-") + 1));
  return {
    status: "created",
    kind: "test::Writer",
    id,
    fqn: [...chain, id].join("/"),
    seq: n,
    data: { blob: `${id};`.repeat((n % 7) * 1000) },
    props: { n },
    output: { ok: true },
    deps: [],
  };
}

const WRITERS = 16;

async function stream(filename: string): Promise<void> {
  const stores = WRITER_CHAINS.map((chain) => new SQLiteStateStore({ chain }, { filename }));
  for (const store of stores) await store.init();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const n = next++;
      const scope = n % stores.length;
      const id = `r-${n}`;
      await stores[scope]!.set(id, writerRecord(WRITER_CHAINS[scope]!, id));
      process.stdout.write(`set ${scope} ${id}\n`);
      if (n % DELETE_EVERY === 0) {
        await stores[scope]!.delete(id);
        process.stdout.write(`del ${scope} ${id}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, worker));
}

async function burst(filename: string, name: string, count: number, startAt: number): Promise<void> {
  const stores = WRITER_CHAINS.map((chain) => new SQLiteStateStore({ chain }, { filename }));
  for (const store of stores) await store.init();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  let next = 0;
  const worker = async () => {
    for (let n = next++; n < count; n = next++) {
      const scope = n % stores.length;
      const id = `${name}-${n}`;
      await stores[scope]!.set(id, writerRecord(WRITER_CHAINS[scope]!, id));
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, worker));
  for (const store of stores) await store.deinit();
  process.stdout.write("done\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [mode, filename, ...rest] = process.argv.slice(2);
  if (mode === "stream") await stream(filename!);
  else if (mode === "burst") await burst(filename!, rest[0]!, Number(rest[1]), Number(rest[2]));
  else throw new Error(`Unknown mode ${String(mode)}: use "stream" or "burst".`);
}
