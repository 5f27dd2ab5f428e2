/**
 * Child process of the crash test: writes and deletes records concurrently and
 * prints `set <scope> <id>` / `del <scope> <id>` once each call has resolved,
 * until it is killed. Checkpoints often, so kills land in every phase.
 *
 * Run: node --import tsx crash-writer.test-fixture.ts <dir>
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import type { State } from "../state-store.js";
import { FileSystemStateStore } from "./fs-state-store.js";

/** The scopes the child writes to. */
export const CRASH_CHAINS = [["app", "dev"], ["app", "dev", "nested"]] as const;

/** Every record whose number is a multiple of this is deleted right after its set resolves. */
export const DELETE_EVERY = 5;

/** The exact record the child writes for `id` in scope `chain`; sizes vary up to ~40 KB. */
export function crashRecord(chain: readonly string[], id: string): State {
  const n = Number(id.slice(2));
  return {
    status: "created",
    kind: "test::Crash",
    id,
    fqn: [...chain, id].join("/"),
    seq: n,
    data: { blob: `${id};`.repeat((n % 7) * 1000) },
    props: { n },
    output: { ok: true },
    deps: [],
  };
}

async function main(dir: string): Promise<void> {
  const stores = CRASH_CHAINS.map((chain) => new FileSystemStateStore({ chain }, { dir, checkpointBytes: 2 * 1024 * 1024 }));
  let next = 0;
  const worker = async () => {
    for (;;) {
      const n = next++;
      const scope = n % stores.length;
      const id = `r-${n}`;
      await stores[scope]!.set(id, crashRecord(CRASH_CHAINS[scope]!, id));
      process.stdout.write(`set ${scope} ${id}\n`);
      if (n % DELETE_EVERY === 0) {
        await stores[scope]!.delete(id);
        process.stdout.write(`del ${scope} ${id}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main(process.argv[2]!);
