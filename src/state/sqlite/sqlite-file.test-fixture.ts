/**
 * Test helpers for the SQLite store: a fresh database file per test (or per
 * conformance case), stores opened on it and closed after, and a second
 * connection to look into the file as another program would.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Sqlite from "better-sqlite3";
import { afterEach, beforeEach } from "vitest";
import type { StateStoreHarness } from "../../testing/state-store-conformance.js";
import type { State } from "../state-store.js";
import { SQLiteStateStore } from "./sqlite-state-store.js";

/** A harness for the conformance suites: a database in a fresh temp directory, removed after the case. */
export async function sqliteHarness(prefix: string): Promise<StateStoreHarness> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
  const filename = path.join(dir, "state.sqlite");
  return {
    factory: (scope) => new SQLiteStateStore(scope, { filename }),
    reopen: () => (scope) => new SQLiteStateStore(scope, { filename }),
    cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }),
  };
}

/** Gives each test of the enclosing `describe` its own database file; read the fields inside a test only. */
export function useSqliteFile(prefix: string) {
  let dir = "";
  let filename = "";
  const stores: SQLiteStateStore[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    filename = path.join(dir, "state.sqlite");
  });
  const closeAll = async () => {
    for (const store of stores.splice(0)) await store.deinit();
  };
  afterEach(async () => {
    await closeAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    /** The test's temp directory. */
    get dir(): string {
      return dir;
    },
    /** The test's database file. */
    get filename(): string {
      return filename;
    },
    /** A store of `chain` on the file, initialized, deinitialized after the test. */
    async open(chain: readonly string[], file = filename): Promise<SQLiteStateStore> {
      const store = new SQLiteStateStore({ chain }, { filename: file });
      stores.push(store);
      await store.init();
      return store;
    },
    /** Deinitializes `store` after the test, with the stores `open` made. */
    track(store: SQLiteStateStore): SQLiteStateStore {
      stores.push(store);
      return store;
    },
    /** Deinitializes every store opened so far. */
    closeAll,
    /** A second connection to the file, as another program would open it. */
    inspect<T>(use: (db: Sqlite.Database) => T, file = filename): T {
      const db = new Sqlite(file, { timeout: 5000 });
      try {
        return use(db);
      } finally {
        db.close();
      }
    },
  };
}

/** A settled record of `id` in the scope `chain`. */
export function testRecord(chain: readonly string[], id: string, extra: Partial<State> = {}): State {
  return {
    status: "created", kind: "test::Thing", id, fqn: [...chain, id].join("/"), seq: 1,
    data: {}, props: { name: id }, output: { ok: true }, deps: [], ...extra,
  };
}
