import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ScopeError, StateStoreError } from "../../core/errors.js";
import { describeStateStore } from "../../testing/state-store-conformance.js";
import { acquireDatabase, openDatabaseRefs, releaseDatabase } from "./database-registry.js";
import { SQLiteStateStore } from "./sqlite-state-store.js";
import { sqliteHarness, testRecord, useSqliteFile } from "./sqlite-file.test-fixture.js";

describeStateStore("SQLiteStateStore", () => sqliteHarness("alchemy-sqlite-store-"));

const STAGE = ["app", "dev"];
const state = testRecord;

describe("SQLiteStateStore", () => {
  const sqlite = useSqliteFile("alchemy-sqlite-store-");
  const { open, inspect } = sqlite;
  const modeOf = (p: string) => fs.statSync(p).mode & 0o777;

  it("keeps every app, stage and scope in one records table keyed by scope path and id", async () => {
    await (await open(STAGE)).set("api", state(STAGE, "api"));
    await (await open([...STAGE, "backend", "inner"])).set("db", state([...STAGE, "backend", "inner"], "db"));
    await (await open(["other", "prod"])).set("api", state(["other", "prod"], "api"));
    const rows = inspect((db) => db.prepare("SELECT scope, id, body FROM records ORDER BY scope, id").all()) as
      Array<{ scope: string; id: string; body: string }>;
    expect(rows.map((r) => `${r.scope} ${r.id}`)).toEqual(["app/dev api", "app/dev/backend/inner db", "other/prod api"]);
    expect(JSON.parse(rows[1]!.body)).toEqual(state([...STAGE, "backend", "inner"], "db"));
    expect(fs.readdirSync(sqlite.dir).filter((name) => !name.startsWith("state.sqlite"))).toEqual([]);
  });

  it("defaults to .alchemy/state.sqlite resolved against the working directory when the store is made", () => {
    const store = new SQLiteStateStore({ chain: STAGE });
    expect(store.filename).toBe(path.resolve(".alchemy", "state.sqlite"));
    expect(new SQLiteStateStore({ chain: STAGE }, { filename: "x/s.db" }).filename).toBe(path.resolve("x/s.db"));
  });

  it("creates the database 0600 and its missing directories 0700 whatever the umask", async () => {
    for (const umask of [0o277, 0o000]) {
      const previous = process.umask(umask);
      try {
        const file = path.join(sqlite.dir, `u${umask.toString(8)}`, "deep", "state.sqlite");
        await (await open(STAGE, file)).set("api", state(STAGE, "api"));
        expect(modeOf(path.join(sqlite.dir, `u${umask.toString(8)}`))).toBe(0o700);
        expect(modeOf(path.dirname(file))).toBe(0o700);
        for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(modeOf(f), f).toBe(0o600);
      } finally {
        process.umask(previous);
      }
    }
  });

  it("runs in WAL mode and records schema version 4, with the records, stage_locks, stage_meta and stage_history tables", async () => {
    await (await open(STAGE)).set("api", state(STAGE, "api"));
    expect(fs.existsSync(`${sqlite.filename}-wal`)).toBe(true);
    inspect((db) => {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe("4");
      const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
      expect(tables).toEqual(["meta", "records", "stage_history", "stage_locks", "stage_meta"]);
    });
  });

  it("refuses a database written with a newer schema version, naming the file, and changes nothing", async () => {
    await (await open(STAGE)).set("api", state(STAGE, "api"));
    await sqlite.closeAll();
    inspect((db) => db.prepare("UPDATE meta SET value = '5' WHERE key = 'schema_version'").run());
    const store = new SQLiteStateStore({ chain: STAGE }, { filename: sqlite.filename });
    const error = await store.init().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).location).toBe(sqlite.filename);
    expect((error as Error).message).toMatch(/schema version 5, but this version of alchemy knows versions up to 4.*upgrade alchemy/);
    await expect(store.get("api")).rejects.toThrow(StateStoreError);
    expect(openDatabaseRefs(sqlite.filename)).toBe(0);
    inspect((db) => expect(db.prepare("SELECT value FROM meta").pluck().get()).toBe("5"));
  });

  it("refuses a file that is not a SQLite database, naming it, and leaves it as it was", async () => {
    fs.writeFileSync(sqlite.filename, "these are my notes, not a database\n".repeat(200));
    const error = await open(STAGE).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toContain(sqlite.filename);
    expect((error as Error).message).toMatch(/not a SQLite database: choose another filename/);
    expect(fs.readFileSync(sqlite.filename, "utf8")).toBe("these are my notes, not a database\n".repeat(200));
  });

  it("shares one connection per file among its stores and closes it at the last deinit", async () => {
    const a = await open(STAGE);
    const b = await open([...STAGE, "nested"]);
    expect(openDatabaseRefs(sqlite.filename)).toBe(2);
    await a.set("api", state(STAGE, "api"));
    await a.deinit();
    expect(openDatabaseRefs(sqlite.filename)).toBe(1);
    await b.set("db", state([...STAGE, "nested"], "db"));
    await b.deinit();
    expect(openDatabaseRefs(sqlite.filename)).toBe(0);
    expect(fs.existsSync(`${sqlite.filename}-wal`)).toBe(false); // the last connection checkpoints and removes it
    expect(await a.get("api")).toEqual(state(STAGE, "api")); // a store used after deinit opens it again
    expect(openDatabaseRefs(sqlite.filename)).toBe(1);
  });

  // How fast is the benchmark's business (npm run bench, BENCH_STORES=sqlite); this checks the group commit and the reads.
  it("commits 10,000 concurrent set calls in one transaction, and reads see them", { timeout: 60_000 }, async () => {
    const store = await open(STAGE);
    const db = acquireDatabase(sqlite.filename);
    try {
      const ids = Array.from({ length: 10_000 }, (_, i) => `r-${i}`);
      const before = db.batches;
      await Promise.all(ids.map((id, i) => store.set(id, state(STAGE, id, { seq: i, props: { i } }))));
      expect(db.batches - before).toBe(1);
      const read = await Promise.all(ids.map((id) => store.get(id)));
      read.forEach((r, i) => expect(r?.seq).toBe(i));
    } finally {
      releaseDatabase(db);
    }
  });

  it("lets a read see a write requested earlier in the same tick", async () => {
    const store = await open(STAGE);
    const written = store.set("api", state(STAGE, "api"));
    expect(await store.get("api")).toEqual(state(STAGE, "api"));
    await written;
    const removed = store.delete("api");
    expect(await store.list()).toEqual([]);
    await removed;
  });

  it("rejects every write of a failed transaction, naming each record, and commits later writes", async () => {
    const store = await open(STAGE);
    inspect((db) =>
      db.exec(`CREATE TRIGGER poison BEFORE INSERT ON records WHEN NEW.id = 'poison'
               BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`),
    );
    const results = await Promise.allSettled(["a", "poison", "b"].map((id) => store.set(id, state(STAGE, id))));
    for (const [i, id] of ["a", "poison", "b"].entries()) {
      const result = results[i]!;
      expect(result.status).toBe("rejected");
      const error = (result as PromiseRejectedResult).reason as StateStoreError;
      expect(error).toBeInstanceOf(StateStoreError);
      expect(error.location).toBe(`${sqlite.filename}#app/dev/${id}`);
      expect(error.message).toMatch(/transaction of 3 write\(s\).*none of them was committed.*poisoned row/);
    }
    expect(await store.list()).toEqual([]);
    await store.set("a", state(STAGE, "a"));
    expect(await store.list()).toEqual(["a"]);
  });

  it("rejects a write whose precondition fails alone, and commits the rest of its batch", async () => {
    const db = acquireDatabase(sqlite.filename);
    try {
      const refused = new StateStoreError("the stage lock was taken over", `${sqlite.filename}#app/dev/b`);
      const results = await Promise.allSettled([
        db.write({ scope: "app/dev", id: "a", body: JSON.stringify(state(STAGE, "a")) }),
        db.write({ scope: "app/dev", id: "b", body: JSON.stringify(state(STAGE, "b")), precondition: () => refused }),
        db.write({ scope: "app/dev", id: "c", body: JSON.stringify(state(STAGE, "c")), precondition: () => undefined }),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect((results[1] as PromiseRejectedResult).reason).toBe(refused);
      expect(db.ids("app/dev")).toEqual(["a", "c"]);
    } finally {
      releaseDatabase(db);
    }
  });

  it("rejects a row that is not a state record with an error naming file, scope and id, and keeps the row", async () => {
    const chain = [...STAGE, "backend"];
    const store = await open(chain);
    await store.set("good", state(chain, "good"));
    const cases: Array<[string, unknown, RegExp]> = [
      ["db", '{"status": "created", "kind": ', /is not valid JSON/],
      ["empty", "", /is empty/],
      ["other", JSON.stringify(state(chain, "someone-else")), /holds id "someone-else"/],
      ["claims", JSON.stringify({ ...state(chain, "claims"), fqn: "app/prod/backend/claims" }), /holds fqn "app\/prod\/backend\/claims" but is stored as "app\/dev\/backend\/claims"/],
      ["bad-status", JSON.stringify({ ...state(chain, "bad-status"), status: "gone" }), /status "gone"/],
      ["binary", Buffer.from("{}"), /holds object data, not JSON text/],
    ];
    for (const [id, body, problem] of cases) {
      inspect((db) => db.prepare("INSERT INTO records VALUES ('app/dev/backend', ?, ?, 0)").run(id, body));
      for (const read of [() => store.get(id), () => store.all(), () => store.getBatch(["good", id])]) {
        const error = await read().then(() => undefined, (e: unknown) => e);
        expect(error, id).toBeInstanceOf(StateStoreError);
        expect((error as StateStoreError).location).toBe(`${sqlite.filename}#app/dev/backend/${id}`);
        expect((error as Error).message).toMatch(problem);
        expect((error as Error).message).toContain(`DELETE FROM records WHERE scope = 'app/dev/backend' AND id = '${id}'`);
      }
      expect(await store.list()).toContain(id);
      inspect((db) => db.prepare("DELETE FROM records WHERE id = ?").run(id));
    }
  });

  it("lists child scopes by path, never taking '_' in a name for a wildcard or a sibling's subtree for its own", async () => {
    const write = async (chain: string[]) => (await open(chain)).set("r", state(chain, "r"));
    for (const scope of [["a_", "inner"], ["ab", "other"], ["a-b", "c"], ["a", "d", "e"], ["a.z"], ["数据", "x"]]) {
      await write([...STAGE, ...scope]);
    }
    await write(["app", "dev-2"]);
    await write(["app_", "dev"]);
    expect((await (await open(STAGE)).listScopes()).sort()).toEqual(["a", "a-b", "a.z", "a_", "ab", "数据"].sort());
    expect(await (await open([...STAGE, "a_"])).listScopes()).toEqual(["inner"]);
    expect(await (await open([...STAGE, "a"])).listScopes()).toEqual(["d"]);
    expect(await (await open([...STAGE, "a", "d"])).listScopes()).toEqual(["e"]);
    expect(await (await open([...STAGE, "数据"])).listScopes()).toEqual(["x"]);
    expect((await (await open(["app"])).listScopes()).sort()).toEqual(["dev", "dev-2"]);
    expect((await (await open([])).listScopes()).sort()).toEqual(["app", "app_"]);
  });

  it("lets a store above the stage list stages and apps but not write", async () => {
    await (await open(STAGE)).set("api", state(STAGE, "api"));
    const app = await open(["app"]);
    expect(await app.list()).toEqual([]);
    expect(await app.count()).toBe(0);
    await expect(app.set("api", state(["app"], "api"))).rejects.toThrow(/records live in a stage/);
    await expect(app.delete("api")).rejects.toThrow(StateStoreError);
    expect(await (await open([])).listScopes()).toEqual(["app"]);
  });

  it("rejects invalid ids and scope names before creating the database", async () => {
    const store = new SQLiteStateStore({ chain: STAGE }, { filename: sqlite.filename });
    for (const id of ["..", "a/b", "", "a b"]) {
      await expect(store.set(id, state(STAGE, id))).rejects.toBeInstanceOf(ScopeError);
      await expect(store.get(id)).rejects.toBeInstanceOf(ScopeError);
    }
    await expect(store.set("api", state(STAGE, "web"))).rejects.toThrow(/holds id "web"/);
    await expect(store.set("api", state(STAGE, "api", { output: { n: 1n } }))).rejects.toThrow(/cannot be stored as JSON/);
    expect(() => new SQLiteStateStore({ chain: [...STAGE, "a%b"] }, { filename: sqlite.filename })).toThrow(ScopeError);
    expect(fs.readdirSync(sqlite.dir)).toEqual([]);
  });

  it("gives as updatedAt the newest commit time among the scope's records, and undefined once it has none", async () => {
    const store = await open(STAGE);
    expect(await store.updatedAt()).toBeUndefined();
    const before = Date.now();
    await store.set("a", state(STAGE, "a"));
    const first = (await store.updatedAt())!.getTime();
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.set("b", state(STAGE, "b"));
    expect((await store.updatedAt())!.getTime()).toBeGreaterThan(first);
    await (await open([...STAGE, "nested"])).set("c", state([...STAGE, "nested"], "c"));
    await store.delete("a");
    await store.delete("b");
    expect(await store.updatedAt()).toBeUndefined();
  });
});
