/**
 * The conformance suite of the {@link StateStore} contract. Every store calls
 * it from its own test file; each case runs against a fresh `setup()`.
 *
 * @module
 */
import { describe, expect, it } from "vitest";
import { ScopeError, StateStoreError } from "../core/errors.js";
import type { StageMeta, State, StateStore, StateStoreFactory } from "../state/state-store.js";
import { describeHistory } from "./history-conformance.js";

/** What a store's test gives the suite for one case. */
export interface StateStoreHarness {
  /** Makes the stores under test. */
  factory: StateStoreFactory;
  /** A fresh factory over the same backing, to check that records persist. */
  reopen?: () => StateStoreFactory;
  /** Frees the backing (temp directory, database) after the case. */
  cleanup?: () => Promise<void>;
  /**
   * Set when stores made by different `reopen()` factories fence their writes
   * independently, as separate processes would (e.g. one connection pool per
   * factory). The stage lock cases that need two holders of one stage in
   * this process run only then; a store that shares one fence per stage per
   * process (one journal, one connection) checks that in its own tests,
   * against a lock taken by another process.
   * @default false
   */
  fencesPerFactory?: boolean;
}

/** What a store's run of the suite may change. */
export interface ConformanceOptions {
  /**
   * How many records the bulk case writes. Fewer only for a store tested
   * against a slow emulator (s3rver writes three files per object), where
   * paging is tested by the store's own tests; say why where it is set.
   * @default 10_000
   */
  manyRecords?: number;
}

/** Makes a fresh {@link StateStoreHarness}; called once per case. */
export type StateStoreSetup = () => Promise<StateStoreHarness>;

/** Opens stores like the engine does (init first) and deinits them after the case. */
export interface Stores {
  open(chain: string[], factory?: StateStoreFactory): Promise<StateStore>;
  closeAll(): Promise<void>;
  harness: StateStoreHarness;
}

const APP = ["app", "dev"];
const INVALID_IDS = ["..", ".", "a/b", "a\\b", "", "a:b", "a\u0000b", "a\nb"];
const UNICODE_PREFIXES = ["résumé", "数据", "Ελληνικά", "नमस्ते"];

/**
 * Registers the state store conformance suite under `name`.
 *
 * @example
 * describeStateStore("MemoryStateStore", async () => {
 *   const tree = createMemoryStateTree();
 *   return {
 *     factory: (scope) => new MemoryStateStore(scope, { tree }),
 *     reopen: () => (scope) => new MemoryStateStore(scope, { tree }),
 *   };
 * });
 */
export function describeStateStore(name: string, setup: StateStoreSetup, options: ConformanceOptions = {}): void {
  const many = options.manyRecords ?? 10_000;
  describe(`${name} conforms to the StateStore contract`, () => {
    it("get of a missing id resolves undefined", run(async ({ open }) => {
      const store = await open(APP);
      expect(await store.get("missing")).toBeUndefined();
    }));

    it("set then get round-trips every field", run(async ({ open }) => {
      const store = await open([...APP, "backend"]);
      const state = record([...APP, "backend"], "db", {
        status: "updated",
        kind: "test::Database",
        seq: 7,
        data: { note: "ünïcödé ✓", nested: { list: [1, "two", null, true] } },
        props: { name: "db", size: 3.5, tags: ["a", "b"], empty: {}, nothing: null },
        output: { url: "postgres://localhost/db", port: 5432 },
        deps: ["app/dev/network", "app/dev/backend/vpc"],
        replaced: [{ props: { name: "old" }, output: { url: "x" }, deps: ["app/dev/network"] }],
      });
      await store.set("db", state);
      expect(await store.get("db")).toEqual(state);
    }));

    it("set overwrites the previous record", run(async ({ open }) => {
      const store = await open(APP);
      await store.set("api", record(APP, "api", { seq: 1, output: { v: 1 } }));
      await store.set("api", record(APP, "api", { seq: 2, status: "updated", output: { v: 2 } }));
      expect(await store.get("api")).toEqual(record(APP, "api", { seq: 2, status: "updated", output: { v: 2 } }));
      expect(await store.count()).toBe(1);
    }));

    it("delete removes a record, and deleting a missing id is a no-op", run(async ({ open }) => {
      const store = await open(APP);
      await store.set("api", record(APP, "api"));
      await store.set("web", record(APP, "web"));
      await store.delete("api");
      await store.delete("never-written");
      expect(await store.get("api")).toBeUndefined();
      expect(await store.list()).toEqual(["web"]);
    }));

    it("list, all, count and getBatch agree", run(async ({ open }) => {
      const store = await open(APP);
      const ids = ["a", "b", "c", "__proto__"];
      for (const id of ids) await store.set(id, record(APP, id));
      const all = await store.all();
      expect(Object.keys(all).sort()).toEqual([...ids].sort());
      expect((await store.list()).sort()).toEqual([...ids].sort());
      expect(await store.count()).toBe(ids.length);
      const batch = await store.getBatch(["a", "__proto__", "missing"]);
      expect(Object.keys(batch).sort()).toEqual(["__proto__", "a"]);
      expect(batch.a).toEqual(all.a);
      for (const id of ids) expect(all[id]).toEqual(record(APP, id));
    }));

    it("records of a nested scope are not listed in its parent", run(async ({ open }) => {
      const stage = await open(APP);
      const nested = await open([...APP, "backend"]);
      await stage.set("api", record(APP, "api"));
      await nested.set("db", record([...APP, "backend"], "db"));
      expect(await stage.list()).toEqual(["api"]);
      expect(Object.keys(await stage.all())).toEqual(["api"]);
      expect(await stage.count()).toBe(1);
      expect(await stage.get("db")).toBeUndefined();
      expect(await nested.list()).toEqual(["db"]);
    }));

    it("listScopes names direct child scopes only, not grandchildren", run(async ({ open }) => {
      const stage = await open(APP);
      const child = await open([...APP, "backend"]);
      const grandchild = await open([...APP, "backend", "inner"]);
      const other = await open([...APP, "frontend"]);
      await grandchild.set("deep", record([...APP, "backend", "inner"], "deep"));
      await other.set("site", record([...APP, "frontend"], "site"));
      expect((await stage.listScopes()).sort()).toEqual(["backend", "frontend"]);
      expect(await child.listScopes()).toEqual(["inner"]);
      expect(await grandchild.listScopes()).toEqual([]);
      expect(await (await open(["app"])).listScopes()).toEqual(["dev"]);
    }));

    it("a child scope whose records were all deleted is no longer listed", run(async ({ open }) => {
      const stage = await open(APP);
      const child = await open([...APP, "backend"]);
      const grandchild = await open([...APP, "backend", "inner"]);
      await child.set("db", record([...APP, "backend"], "db"));
      await grandchild.set("deep", record([...APP, "backend", "inner"], "deep"));
      await grandchild.delete("deep");
      expect(await child.listScopes()).toEqual([]);
      expect(await stage.listScopes()).toEqual(["backend"]);
      await child.delete("db");
      expect(await stage.listScopes()).toEqual([]);
      await child.set("db", record([...APP, "backend"], "db"));
      expect(await stage.listScopes()).toEqual(["backend"]);
    }));

    it("two stages of one app and two apps never see each other's records", run(async ({ open }) => {
      const chains = [["app-a", "dev"], ["app-a", "prod"], ["app-b", "dev"]];
      const stores = await Promise.all(chains.map((chain) => open(chain)));
      for (const [i, store] of stores.entries()) {
        await store.set("shared-id", record(chains[i]!, "shared-id", { seq: i }));
        await store.set(`only-${i}`, record(chains[i]!, `only-${i}`));
      }
      for (const [i, store] of stores.entries()) {
        expect((await store.list()).sort()).toEqual([`only-${i}`, "shared-id"]);
        expect((await store.get("shared-id"))?.seq).toBe(i);
      }
      await stores[0]!.delete("shared-id");
      expect(await stores[1]!.get("shared-id")).toBeDefined();
      expect(await stores[2]!.get("shared-id")).toBeDefined();
      expect((await (await open(["app-a"])).listScopes()).sort()).toEqual(["dev", "prod"]);
      expect(await (await open(["app-b"])).listScopes()).toEqual(["dev"]);
    }));

    it("a record whose fqn claims another app, stage, scope or id is refused by set, or else by every read, with a StateStoreError naming both", run(async ({ open }) => {
      const chain = [...APP, "backend"];
      const store = await open(chain);
      await store.set("web", record(chain, "web"));
      for (const claim of ["app/prod/backend/db", "other/dev/backend/db", "app/dev/db", "app/dev/backend/web", "app/dev/backend"]) {
        const problem = `holds fqn "${claim}" but is stored as "app/dev/backend/db"`;
        const written = await store.set("db", record(chain, "db", { fqn: claim })).then(() => undefined, (e: unknown) => e);
        if (written !== undefined) {
          expect(written, claim).toBeInstanceOf(StateStoreError);
          expect((written as Error).message, claim).toContain(problem);
          expect(await store.list(), claim).toEqual(["web"]);
          continue;
        }
        for (const read of [() => store.get("db"), () => store.all(), () => store.getBatch(["web", "db"])]) {
          const error = await read().then(() => undefined, (e: unknown) => e);
          expect(error, claim).toBeInstanceOf(StateStoreError);
          expect((error as Error).message, claim).toContain(problem);
        }
        await store.delete("db");
      }
      expect(await store.all()).toEqual({ web: record(chain, "web") });
    }));

    it(`${many.toLocaleString("en-US")} records with unicode ids round-trip and count is ${many.toLocaleString("en-US")}`, { timeout: 180_000 }, run(async ({ open }) => {
      const store = await open(APP);
      const ids = Array.from({ length: many }, (_, i) => `${UNICODE_PREFIXES[i % UNICODE_PREFIXES.length]}-${i}`);
      await Promise.all(ids.map((id, i) => store.set(id, record(APP, id, { seq: i, props: { i } }))));
      expect(await store.count()).toBe(many);
      expect((await store.list()).sort()).toEqual([...ids].sort());
      const all = await store.all();
      expect(Object.keys(all)).toHaveLength(many);
      ids.forEach((id, i) => expect(all[id]).toEqual(record(APP, id, { seq: i, props: { i } })));
      expect(await store.get("数据-1")).toEqual(record(APP, "数据-1", { seq: 1, props: { i: 1 } }));
    }));

    it("200 concurrent set calls on different ids lose nothing", { timeout: 60_000 }, run(async ({ open }) => {
      const store = await open([...APP, "burst"]);
      const ids = Array.from({ length: 200 }, (_, i) => `r-${i}`);
      await Promise.all(ids.map((id, i) => store.set(id, record([...APP, "burst"], id, { seq: i }))));
      const all = await store.all();
      expect(Object.keys(all).sort()).toEqual([...ids].sort());
      ids.forEach((id, i) => expect(all[id]?.seq).toBe(i));
    }));

    it("a reader polling get while a 1 MB record is rewritten 50 times sees only whole records", { timeout: 120_000 }, run(async ({ open }) => {
      const writer = await open(APP);
      const reader = await open(APP);
      const size = 1 << 20;
      const version = (v: number) => record(APP, "big", { seq: v, data: { blob: String.fromCharCode(65 + (v % 26)).repeat(size) } });
      await writer.set("big", version(0));
      let done = false;
      let reads = 0;
      let lastSeq = 0;
      const polling = (async () => {
        while (!done) {
          const seen = await reader.get("big");
          expect(seen).toBeDefined();
          expect(seen!.seq).toBeGreaterThanOrEqual(lastSeq);
          expect(seen!.data.blob === version(seen!.seq).data.blob).toBe(true);
          lastSeq = seen!.seq;
          reads++;
          await new Promise((resolve) => setImmediate(resolve)); // let the writer's I/O run
        }
      })();
      try {
        for (let v = 1; v <= 50; v++) await writer.set("big", version(v));
      } finally {
        done = true;
        await polling;
      }
      expect(reads).toBeGreaterThan(0);
      expect((await reader.get("big"))?.seq).toBe(50);
    }));

    it("records written through one factory are read back through reopen()", run(async ({ open, closeAll, harness }, skip) => {
      if (harness.reopen === undefined) return skip();
      const first = await open(APP);
      const nested = await open([...APP, "backend"]);
      await first.set("api", record(APP, "api", { output: { url: "https://api" } }));
      await first.set("gone", record(APP, "gone"));
      await first.delete("gone");
      await nested.set("db", record([...APP, "backend"], "db"));
      await closeAll();
      const factory = harness.reopen();
      const again = await open(APP, factory);
      expect(await again.all()).toEqual({ api: record(APP, "api", { output: { url: "https://api" } }) });
      expect(await again.listScopes()).toEqual(["backend"]);
      expect(await (await open([...APP, "backend"], factory)).get("db")).toEqual(record([...APP, "backend"], "db"));
    }));

    it("updatedAt, where the store offers it, is undefined or a Date for an empty scope and no earlier than a set", run(async ({ open }, skip) => {
      const chain = [...APP, "clock"];
      const store = await open(chain);
      if (store.updatedAt === undefined) return skip(); // an optional capability
      const empty = await store.updatedAt();
      expect(empty === undefined || empty instanceof Date, `updatedAt of an empty scope: ${String(empty)}`).toBe(true);
      const writtenAt = Date.now();
      await store.set("api", record(chain, "api"));
      const after = await store.updatedAt();
      expect(after).toBeInstanceOf(Date);
      // File systems stamp times from a coarse clock; two seconds of slack covers any of them.
      expect(after!.getTime()).toBeGreaterThanOrEqual(writtenAt - 2_000);
    }));

    describeStageMeta(run);
    describeHistory(run);

    it("invalid ids are rejected by set, get and delete with ScopeError before any I/O", run(async ({ open }) => {
      const store = await open(APP);
      for (const id of INVALID_IDS) {
        await expect(store.set(id, record(APP, id)), JSON.stringify(id)).rejects.toBeInstanceOf(ScopeError);
        await expect(store.get(id), JSON.stringify(id)).rejects.toBeInstanceOf(ScopeError);
        await expect(store.delete(id), JSON.stringify(id)).rejects.toBeInstanceOf(ScopeError);
        await expect(store.getBatch(["ok", id]), JSON.stringify(id)).rejects.toBeInstanceOf(ScopeError);
      }
      expect(await store.count()).toBe(0);
      expect(await store.listScopes()).toEqual([]);
      expect(await (await open(["app"])).listScopes()).toEqual([]);
    }));

    it("an invalid scope name is rejected with ScopeError", run(async ({ open }) => {
      for (const bad of ["..", "a/b", "a:b", ""]) {
        const attempt = async () => {
          const store = await open([...APP, bad]);
          await store.set("x", record([...APP, bad], "x"));
        };
        await expect(attempt(), JSON.stringify(bad)).rejects.toBeInstanceOf(ScopeError);
      }
      expect(await (await open(["app"])).listScopes()).toEqual([]);
    }));
  });

  /** Wraps a case body: fresh harness, stores deinit'ed and backing cleaned up afterwards. */
  function run(body: (stores: Stores, skip: () => void) => Promise<void>) {
    return async (context: { skip: () => void }) => {
      const harness = await setup();
      const opened: StateStore[] = [];
      const stores: Stores = {
        harness,
        async open(chain, factory = harness.factory) {
          const store = factory({ chain });
          opened.push(store);
          await store.init?.();
          return store;
        },
        async closeAll() {
          for (const store of opened.splice(0)) await store.deinit?.();
        },
      };
      try {
        await body(stores, () => context.skip());
      } finally {
        try {
          await stores.closeAll();
        } finally {
          await harness.cleanup?.();
        }
      }
    };
  }
}

/** A case body runner of {@link describeStateStore}. */
export type Run = (body: (stores: Stores, skip: () => void) => Promise<void>) => (context: { skip: () => void }) => Promise<void>;

/** A store of a stage that offers the stage metadata capability. */
type MetaStore = StateStore & Required<Pick<StateStore, "getStageMeta" | "setStageMeta">>;

function offersStageMeta(store: StateStore): store is MetaStore {
  return typeof store.getStageMeta === "function" && typeof store.setStageMeta === "function";
}

/** A {@link MetaStore} that can also remove the stage metadata. */
type DeletableMetaStore = MetaStore & Required<Pick<StateStore, "deleteStageMeta">>;

function offersStageMetaDeletion(store: MetaStore): store is DeletableMetaStore {
  return typeof store.deleteStageMeta === "function";
}

/** Metadata exercising what JSON can hold: nesting, unicode, numbers, an own `__proto__` key. */
const RICH_META: StageMeta = JSON.parse(
  JSON.stringify({
    secrets: { salt: "c2FsdC0xMjM0NTY3ODk=", verifier: "dmVyaWZpZXI=", iterations: 600_000, algorithm: "scrypt" },
    deployer: { user: "zoë", host: "数据-7", note: "Ελληνικά ✓ \u0000 \"quoted\" \\ 😀" },
    numbers: [0, -1, 3.5, 1e-7, 9007199254740991],
    flags: { on: true, off: false, none: null },
    empty: { object: {}, array: [] },
    deep: { a: { b: { c: { d: [{ e: ["f"] }] } } } },
  }).replace(/^\{/, '{"__proto__":{"kept":true},'),
) as StageMeta;

/** The stage metadata cases, run only against stores that offer the capability. */
function describeStageMeta(run: Run): void {
  describe("stage metadata, where the store offers it", () => {
    /** The stage store of `chain`, or a skip when the store does not offer stage metadata. */
    const metaStore = async (open: Stores["open"], skip: () => void, chain = APP, factory?: StateStoreFactory) => {
      const store = await open(chain, factory);
      if (!offersStageMeta(store)) {
        skip(); // an optional capability
        throw new Error("unreachable: skip() throws");
      }
      return store;
    };
    /** Like `metaStore`, and a skip when the store cannot delete stage metadata either. */
    const deletableMetaStore = async (open: Stores["open"], skip: () => void, chain = APP, factory?: StateStoreFactory) => {
      const store = await metaStore(open, skip, chain, factory);
      if (!offersStageMetaDeletion(store)) {
        skip(); // an optional capability
        throw new Error("unreachable: skip() throws");
      }
      return store;
    };

    it("is undefined before any write", run(async ({ open }, skip) => {
      const store = await metaStore(open, skip);
      expect(await store.getStageMeta()).toBeUndefined();
    }));

    it("set then get round-trips exactly: nested objects, unicode, numbers, key order, a __proto__ key", run(async ({ open }, skip) => {
      const store = await metaStore(open, skip);
      const meta = structuredClone(RICH_META);
      await store.setStageMeta(meta);
      meta.mutated = true; // the store keeps what it was given at the call, not the object
      const read = await store.getStageMeta();
      expect(JSON.stringify(read)).toBe(JSON.stringify(RICH_META));
      expect(read).toEqual(RICH_META);
      expect(Object.getOwnPropertyNames(read)).toContain("__proto__");
      read!.changed = true; // a caller's copy, not the store's
      expect(await (await open(APP)).getStageMeta!()).toEqual(RICH_META);
    }));

    it("set replaces the whole metadata, it does not merge", run(async ({ open }, skip) => {
      const store = await metaStore(open, skip);
      await store.setStageMeta({ secrets: { salt: "a" }, deployer: "alice" });
      await store.setStageMeta({ secrets: { salt: "b" } });
      expect(await store.getStageMeta()).toEqual({ secrets: { salt: "b" } });
      await store.setStageMeta({});
      expect(await store.getStageMeta()).toEqual({});
    }));

    it("is not a record: list, all, count and listScopes of the stage are unaffected, and the application does not list a stage holding only metadata", run(async ({ open }, skip) => {
      const store = await metaStore(open, skip);
      const other = await open(["app", "prod"]);
      await store.setStageMeta({ secrets: { salt: "a" } });
      await other.set("api", record(["app", "prod"], "api"));
      expect(await store.list()).toEqual([]);
      expect(await store.all()).toEqual({});
      expect(await store.count()).toBe(0);
      expect(await store.listScopes()).toEqual([]);
      expect(await (await open(["app"])).listScopes()).toEqual(["prod"]);
      await store.set("api", record(APP, "api"));
      expect((await (await open(["app"])).listScopes()).sort()).toEqual(["dev", "prod"]);
      expect(await store.list()).toEqual(["api"]);
      await store.delete("api");
      expect(await (await open(["app"])).listScopes()).toEqual(["prod"]);
      expect(await store.getStageMeta()).toEqual({ secrets: { salt: "a" } }); // never removed implicitly
    }));

    it("two stages of one app and two apps keep their own metadata", run(async ({ open }, skip) => {
      const chains = [["app-a", "dev"], ["app-a", "prod"], ["app-b", "dev"]];
      const stores: MetaStore[] = [];
      for (const chain of chains) stores.push(await metaStore(open, skip, chain));
      await Promise.all(stores.map((store, i) => store.setStageMeta({ owner: chains[i]!.join("/"), i })));
      for (const [i, store] of stores.entries()) expect(await store.getStageMeta()).toEqual({ owner: chains[i]!.join("/"), i });
      await stores[0]!.setStageMeta({ owner: "changed" });
      expect(await stores[1]!.getStageMeta()).toEqual({ owner: "app-a/prod", i: 1 });
      expect(await stores[2]!.getStageMeta()).toEqual({ owner: "app-b/dev", i: 2 });
      expect(await (await metaStore(open, skip, ["app-b", "prod"])).getStageMeta()).toBeUndefined();
    }));

    it("written through one factory is read back through reopen()", run(async ({ open, closeAll, harness }, skip) => {
      if (harness.reopen === undefined) return skip();
      const store = await metaStore(open, skip);
      await store.set("api", record(APP, "api"));
      await store.setStageMeta(RICH_META);
      await store.setStageMeta({ ...RICH_META, version: 2 });
      await closeAll();
      const again = await metaStore(open, skip, APP, harness.reopen());
      expect(await again.getStageMeta()).toEqual({ ...RICH_META, version: 2 });
      expect(await again.list()).toEqual(["api"]);
    }));

    it("refuses, with a StateStoreError and nothing written, a value that is not a plain JSON object", run(async ({ open }, skip) => {
      const store = await metaStore(open, skip);
      await store.setStageMeta({ kept: 1 });
      const cycle: Record<string, unknown> = { a: {} };
      (cycle.a as Record<string, unknown>).back = cycle;
      const bad: unknown[] = [null, [], ["a"], "text", 1, new Date(), new Map(), { when: new Date() }, { n: 1n }, { n: NaN },
        { f: () => 1 }, { u: undefined }, { bytes: new Uint8Array(4) }, cycle];
      for (const value of bad) {
        const error = await store.setStageMeta(value as StageMeta).then(() => undefined, (e: unknown) => e);
        expect(error, String(value)).toBeInstanceOf(StateStoreError);
        expect((error as Error).message).toMatch(/Refusing to write the stage metadata/);
      }
      expect(await store.getStageMeta()).toEqual({ kept: 1 });
    }));

    it("delete removes it: get resolves undefined afterwards, also through reopen(), and the stage's records stay", run(async ({ open, closeAll, harness }, skip) => {
      const store = await deletableMetaStore(open, skip);
      await store.set("api", record(APP, "api"));
      await store.setStageMeta(RICH_META);
      await store.deleteStageMeta();
      expect(await store.getStageMeta()).toBeUndefined();
      expect(await store.list()).toEqual(["api"]);
      expect(await (await open(["app"])).listScopes()).toEqual(["dev"]);
      if (harness.reopen === undefined) return;
      await closeAll();
      const again = await deletableMetaStore(open, skip, APP, harness.reopen());
      expect(await again.getStageMeta()).toBeUndefined();
      expect(await again.get("api")).toEqual(record(APP, "api"));
    }));

    it("delete of a stage holding no metadata resolves and changes nothing, also when repeated", run(async ({ open }, skip) => {
      const store = await deletableMetaStore(open, skip);
      await store.deleteStageMeta();
      await store.deleteStageMeta();
      expect(await store.getStageMeta()).toBeUndefined();
      expect(await store.list()).toEqual([]);
      expect(await (await open(["app"])).listScopes()).toEqual([]);
    }));

    it("set after delete writes the metadata afresh, and delete touches only its own stage", run(async ({ open }, skip) => {
      const store = await deletableMetaStore(open, skip);
      const other = await deletableMetaStore(open, skip, ["app", "prod"]);
      await store.setStageMeta({ secrets: { salt: "a" } });
      await other.setStageMeta({ owner: "prod" });
      await store.deleteStageMeta();
      expect(await other.getStageMeta()).toEqual({ owner: "prod" });
      await store.setStageMeta({ secrets: { salt: "b" } });
      expect(await store.getStageMeta()).toEqual({ secrets: { salt: "b" } });
      await store.deleteStageMeta();
      await store.setStageMeta({});
      expect(await store.getStageMeta()).toEqual({});
    }));

    it("deleting the metadata of a stage holding nothing else leaves it unlisted, and its records can come back", run(async ({ open }, skip) => {
      const store = await deletableMetaStore(open, skip);
      await store.setStageMeta({ secrets: { salt: "a" } });
      await store.set("api", record(APP, "api"));
      await store.delete("api");
      await store.deleteStageMeta();
      expect(await (await open(["app"])).listScopes()).toEqual([]);
      expect(await store.count()).toBe(0);
      await store.set("api", record(APP, "api"));
      expect(await (await open(["app"])).listScopes()).toEqual(["dev"]);
      expect(await store.getStageMeta()).toBeUndefined();
    }));

    it("delete belongs to the stage's store: an application's or a nested scope's store rejects with a StateStoreError naming its scope", run(async ({ open }, skip) => {
      const stage = await deletableMetaStore(open, skip);
      await stage.setStageMeta({ kept: 1 });
      for (const chain of [["app"], [...APP, "backend"]]) {
        const store = await open(chain);
        const error = await store.deleteStageMeta!().then(() => undefined, (e: unknown) => e);
        expect(error, chain.join("/")).toBeInstanceOf(StateStoreError);
        expect((error as Error).message).toContain(`"${chain.join("/")}"`);
        expect((error as Error).message).toMatch(/stage metadata belongs to the store of a stage scope \(app\/stage\)/);
      }
      expect(await stage.getStageMeta()).toEqual({ kept: 1 });
    }));

    it("belongs to the stage's store: an application's or a nested scope's store rejects with a StateStoreError saying so", run(async ({ open }, skip) => {
      await metaStore(open, skip);
      for (const chain of [["app"], [...APP, "backend"]]) {
        const store = await open(chain);
        for (const call of [() => store.getStageMeta!(), () => store.setStageMeta!({ a: 1 })]) {
          const error = await call().then(() => undefined, (e: unknown) => e);
          expect(error, chain.join("/")).toBeInstanceOf(StateStoreError);
          expect((error as Error).message).toMatch(/stage metadata belongs to the store of a stage scope \(app\/stage\)/);
        }
      }
    }));
  });
}

/** A valid record of `id` in the scope `chain`, with `overrides`. */
function record(chain: readonly string[], id: string, overrides: Partial<State> = {}): State {
  return {
    status: "created",
    kind: "test::Thing",
    id,
    fqn: [...chain, id].join("/"),
    seq: 1,
    data: {},
    props: { name: id },
    output: { ok: true },
    deps: [],
    ...overrides,
  };
}
