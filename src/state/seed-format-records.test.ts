/**
 * Records in seed 002's format (`status, kind, id, fqn, seq, data, props,
 * output`, no `deps`) are read by every store as records without
 * dependencies; whatever the engine writes back carries `deps`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import alchemy, { Resource, type Context } from "../index.js";
import { FileSystemStateStore } from "./fs/fs-state-store.js";
import { createMemoryStateTree, MemoryStateStore } from "./memory/memory-state-store.js";
import { createTestSchema, type TestSchema } from "./postgres/postgres.test-fixture.js";
import { PostgresStateStore } from "./postgres/postgres-state-store.js";
import { SQLiteStateStore } from "./sqlite/sqlite-state-store.js";
import Sqlite from "better-sqlite3";
import type { State, StateStore } from "./state-store.js";

/** The record of seed 002's "State File Format", character for character. */
const SEED_RECORD = `{
  "status": "updated",
  "kind": "cloudflare::Worker",
  "id": "api",
  "fqn": "my-app/prod/api",
  "seq": 3,
  "data": {},
  "props": {
    "name": "my-worker",
    "entrypoint": "./src/index.ts",
    "bindings": {
      "KV_NAMESPACE": {
        "namespaceId": "abcdef123456",
        "title": "my-namespace"
      }
    }
  },
  "output": {
    "id": "api",
    "name": "my-worker",
    "url": "https://my-worker.workers.dev",
    "createdAt": 1678901234567
  }
}`;
const STAGE = ["my-app", "prod"];
/** How every store reads it: no dependencies recorded. */
const READ: State = { ...(JSON.parse(SEED_RECORD) as Omit<State, "deps">), deps: [] };

/** One store, its records fed and looked at through its own backing (file, row, tree). */
interface Backing {
  open(): Promise<StateStore>;
  /** Stores `text` as the record "api" of the stage, as another program would. */
  feed(text: string): Promise<void>;
  /** The text stored as the record "api" of the stage, once the open stores let go. */
  stored(): Promise<string>;
  cleanup(): Promise<void>;
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-seed-format-"));

const BACKINGS: Array<[string, () => Promise<Backing>]> = [
  [
    "MemoryStateStore",
    async () => {
      const tree = createMemoryStateTree();
      return {
        open: async () => new MemoryStateStore({ chain: STAGE }, { tree }),
        feed: async (text) => void tree.records(STAGE.join("/"), true).set("api", text),
        stored: async () => tree.records(STAGE.join("/"))!.get("api")!,
        cleanup: async () => undefined,
      };
    },
  ],
  [
    "FileSystemStateStore",
    async () => {
      const dir = tempDir();
      const file = path.join(dir, ...STAGE, "api.json");
      return {
        open: async () => new FileSystemStateStore({ chain: STAGE }, { dir }),
        feed: async (text) => {
          fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
          fs.writeFileSync(file, text, { mode: 0o600 });
        },
        stored: async () => fs.readFileSync(file, "utf8"),
        cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    "SQLiteStateStore",
    async () => {
      const dir = tempDir();
      const filename = path.join(dir, "state.sqlite");
      const inspect = <T>(use: (db: Sqlite.Database) => T): T => {
        const db = new Sqlite(filename, { timeout: 5000 });
        try {
          return use(db);
        } finally {
          db.close();
        }
      };
      const open = async () => new SQLiteStateStore({ chain: STAGE }, { filename });
      return {
        open,
        feed: async (text) => {
          await withStore(open, (store) => store.set("api", READ));
          inspect((db) => db.prepare("UPDATE records SET body = ? WHERE scope = ? AND id = ?").run(text, STAGE.join("/"), "api"));
        },
        stored: async () => inspect((db) => (db.prepare("SELECT body FROM records WHERE scope = ? AND id = ?").get(STAGE.join("/"), "api") as { body: string }).body),
        cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    "PostgresStateStore",
    async () => {
      const db: TestSchema = await createTestSchema("alchemy_seed");
      const open = async () => new PostgresStateStore({ chain: STAGE }, db.options());
      return {
        open,
        feed: async (text) => {
          await withStore(open, (store) => store.set("api", READ));
          await db.query(`UPDATE ${db.schema}.records SET body = $1 WHERE scope = $2 AND id = $3`, [text, STAGE.join("/"), "api"]);
        },
        stored: async () => (await db.query<{ body: string }>(`SELECT body FROM ${db.schema}.records WHERE scope = $1 AND id = $2`, [STAGE.join("/"), "api"]))[0]!.body,
        cleanup: () => db.drop(),
      };
    },
  ],
];

/** Opens a store, runs `use` on it and closes it. */
async function withStore<T>(open: () => Promise<StateStore>, use: (store: StateStore) => Promise<T>): Promise<T> {
  const store = await open();
  await store.init?.();
  try {
    return await use(store);
  } finally {
    await store.deinit?.();
  }
}

describe.each(BACKINGS)("a record in seed 002's format, without deps, in a %s", (_name, make) => {
  let backing: Backing;
  beforeEach(async () => {
    backing = await make();
  });
  afterEach(async () => {
    await backing.cleanup();
  });

  it("is read by get, getBatch and all as a record without dependencies", async () => {
    await backing.feed(SEED_RECORD);
    await withStore(backing.open, async (store) => {
      expect(await store.get("api")).toEqual(READ);
      expect(await store.getBatch(["api", "missing"])).toEqual({ api: READ });
      expect(await store.all()).toEqual({ api: READ });
      expect(await store.list()).toEqual(["api"]);
    });
  });

  it("is written back with its deps", async () => {
    await backing.feed(SEED_RECORD);
    await withStore(backing.open, async (store) => {
      const read = (await store.get("api"))!;
      await store.set("api", { ...read, seq: read.seq + 1 });
    });
    expect(JSON.parse(await backing.stored())).toEqual({ ...READ, seq: 4 });
  });

  it("is still refused when its deps are there but are not a list of fqns", async () => {
    for (const deps of ["null", '"my-app/prod/kv"', "[1]"]) {
      await backing.feed(SEED_RECORD.replace(/\n}$/, `,\n  "deps": ${deps}\n}`));
      const error = await withStore(backing.open, (store) => store.get("api")).then(() => undefined, (e: unknown) => e);
      expect((error as Error | undefined)?.message, deps).toMatch(/is not a state record: it has field "deps" .*, expected an array of fqn strings/);
    }
  });
});

interface WorkerProps {
  name: string;
  entrypoint: string;
  bindings: Record<string, { namespaceId: string; title: string }>;
}
const calls: string[] = [];
/** A stand-in for seed 002's `cloudflare::Worker`, counting its calls. */
const Worker = Resource("cloudflare::Worker", async function (this: Context<object, WorkerProps>, id: string, props: WorkerProps) {
  calls.push(`${this.phase} ${id}`);
  if (this.phase === "delete") return this.destroy();
  return { ...this.output, id, name: props.name };
});
const SEED_PROPS: WorkerProps = {
  name: "my-worker",
  entrypoint: "./src/index.ts",
  bindings: { KV_NAMESPACE: { namespaceId: "abcdef123456", title: "my-namespace" } },
};

describe("a .alchemy folder holding seed 002's record, written by hand", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = tempDir();
    file = path.join(dir, ".alchemy", ...STAGE, "api.json");
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, SEED_RECORD, { mode: 0o600 });
    calls.length = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = async (phase: "plan" | "up", props: WorkerProps) => {
    const app = await alchemy("my-app", { stage: "prod", phase, rootDir: dir, quiet: true });
    const output = await Worker("api", props);
    await app.finalize();
    return { output, events: app.events.map((e) => `${e.action} ${e.fqn}`) };
  };

  it("plans no changes for the program that declares it, and a deploy leaves it as it is without calling the handler", async () => {
    const planned = await run("plan", SEED_PROPS);
    expect(planned.events).toEqual(["noop my-app/prod/api"]);
    expect(planned.output).toEqual(READ.output);
    const deployed = await run("up", SEED_PROPS);
    expect(deployed.events).toEqual(["noop my-app/prod/api"]);
    expect(deployed.output).toEqual(READ.output);
    expect(calls).toEqual([]);
    expect(fs.readFileSync(file, "utf8")).toBe(SEED_RECORD);
  });

  it("is updated like any record when its props change, and then records its deps", async () => {
    const deployed = await run("up", { ...SEED_PROPS, entrypoint: "./src/worker.ts" });
    expect(deployed.events).toEqual(["update my-app/prod/api"]);
    expect(calls).toEqual(["update api"]);
    const written = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(written).toMatchObject({ status: "updated", seq: 5, props: { entrypoint: "./src/worker.ts" }, deps: [] });
  });
});
