/**
 * Child process of the multi-process tests: prints `ready`, waits for a `go`
 * line on stdin (so that every child starts at the same moment), then opens
 * PostgreSQL state stores through its own factory, writes COUNT records named
 * `<WRITER>-<n>` over two scopes with 16 concurrent workers, deletes every
 * fifth once written, and prints
 * `done <COUNT>`. Any failure goes to stderr with exit code 1.
 *
 * Run: node --import <repo>/node_modules/tsx/dist/loader.mjs --conditions source store-process.test-fixture.ts
 * with DATABASE_URL, SCHEMA, WRITER and COUNT in the environment.
 *
 * @module
 */
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import type { State, StateStoreFactory } from "../state-store.js";
import { PostgresStateStore } from "./postgres-state-store.js";

/** The scopes every child writes to. */
export const PROCESS_CHAINS = [["app", "dev"], ["app", "dev", "nested"]] as const;

/** Records whose number is a multiple of this are deleted once written. */
export const DELETE_EVERY = 5;

/** The record a child writes as number `n`: its id, its scope and its content. */
export function processRecord(writer: string, n: number): { chain: readonly string[]; state: State } {
  const chain = PROCESS_CHAINS[n % PROCESS_CHAINS.length]!;
  const id = `${writer}-${n}`;
  return {
    chain,
    state: { status: "created", kind: "test::Process", id, fqn: [...chain, id].join("/"), seq: n, data: { writer }, props: { n }, output: { ok: true }, deps: [] },
  };
}

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const writer = env.WRITER!;
  const count = Number(env.COUNT);
  const factory: StateStoreFactory = (scope) => new PostgresStateStore(scope, { connectionString: env.DATABASE_URL, schema: env.SCHEMA });
  process.stdout.write("ready\n");
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line.trim() === "go") break;
  lines.close();
  const stores = PROCESS_CHAINS.map((chain) => factory({ chain }));
  try {
    await Promise.all(stores.map((store) => store.init?.()));
    // Sixteen workers each wait for one write before the next: many small batches, interleaved with the other processes'.
    let next = 0;
    const worker = async () => {
      for (let n = next++; n < count; n = next++) {
        const { state } = processRecord(writer, n);
        const store = stores[n % stores.length]!;
        await store.set(state.id, state);
        if (n % DELETE_EVERY === 0) await store.delete(state.id);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  } finally {
    for (const store of stores) await store.deinit?.();
  }
  process.stdout.write(`done ${count}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.env).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
