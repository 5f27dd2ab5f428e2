import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ScopeError, StateStoreError } from "../../core/errors.js";
import { describeStateStore } from "../../testing/state-store-conformance.js";
import type { State } from "../state-store.js";
import { CRASH_CHAINS, DELETE_EVERY, crashRecord } from "./crash-writer.test-fixture.js";
import { FileSystemStateStore } from "./fs-state-store.js";

describeStateStore("FileSystemStateStore", async () => {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "alchemy-fs-store-"));
  return {
    factory: (scope) => new FileSystemStateStore(scope, { dir }),
    reopen: () => (scope) => new FileSystemStateStore(scope, { dir }),
    cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }),
  };
});

const STAGE = ["app", "dev"];
const state = (chain: readonly string[], id: string, extra: Partial<State> = {}): State => ({
  status: "created", kind: "test::Thing", id, fqn: [...chain, id].join("/"), seq: 1,
  data: {}, props: { name: id }, output: { ok: true }, deps: [], ...extra,
});

describe("FileSystemStateStore", () => {
  let dir: string;
  const stores: FileSystemStateStore[] = [];
  const open = (chain: readonly string[], options: { checkpointBytes?: number } = {}) => {
    const store = new FileSystemStateStore({ chain }, { dir, ...options });
    stores.push(store);
    return store;
  };
  const modeOf = (p: string) => fs.statSync(p).mode & 0o777;
  /** Record files trail the journal by a few milliseconds; a store's deinit brings them up to date. */
  const flush = async (chain: readonly string[] = STAGE) => {
    const store = new FileSystemStateStore({ chain }, { dir });
    await store.init();
    await store.deinit();
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-fs-store-"));
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.deinit();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes each record to <dir>/<app>/<stage>/<scopes...>/<id>.json as pretty JSON", async () => {
    const api = state(STAGE, "api");
    const db = state([...STAGE, "backend", "inner"], "db");
    await open(STAGE).set("api", api);
    await open([...STAGE, "backend", "inner"]).set("db", db);
    for (const store of stores.splice(0)) await store.deinit(); // lets go of the stage: lock and fence go
    expect(fs.readFileSync(path.join(dir, "app/dev/api.json"), "utf8")).toBe(JSON.stringify(api, null, 2) + "\n");
    expect(fs.readFileSync(path.join(dir, "app/dev/backend/inner/db.json"), "utf8")).toBe(JSON.stringify(db, null, 2) + "\n");
    expect(fs.readdirSync(path.join(dir, "app/dev")).sort()).toEqual(["api.json", "backend", "~journal"]);
    expect(new FileSystemStateStore({ chain: STAGE }).dir).toBe(path.resolve(".alchemy"));
  });

  it("creates files 0600 and directories 0700 whatever the umask", async () => {
    for (const umask of [0o277, 0o000]) {
      const previous = process.umask(umask);
      try {
        const chain = ["app", `umask-${umask.toString(8)}`, "nested"];
        await open(chain).set("api", state(chain, "api"));
        await flush(chain);
        for (const d of [dir + "/app", `${dir}/app/${chain[1]}`, `${dir}/app/${chain[1]}/nested`]) expect(modeOf(d)).toBe(0o700);
        expect(modeOf(`${dir}/app/${chain[1]}/nested/api.json`)).toBe(0o600);
        expect(modeOf(`${dir}/app/${chain[1]}/~journal`)).toBe(0o600);
      } finally {
        process.umask(previous);
      }
    }
  });

  it("rejects a corrupt JSON file with a StateStoreError naming its absolute path, and leaves it untouched", async () => {
    const store = open(STAGE);
    await store.set("good", state(STAGE, "good"));
    const file = path.join(dir, "app/dev/broken.json");
    fs.writeFileSync(file, '{"status": "created", "kind": ');
    for (const read of [() => store.get("broken"), () => store.all(), () => store.getBatch(["good", "broken"])]) {
      const error = await read().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).message).toContain(file);
      expect((error as StateStoreError).message).toMatch(/not valid JSON.*alchemy state rm app\/dev\/broken/s);
      expect((error as StateStoreError).location).toBe(file);
    }
    expect(await store.list()).toContain("broken");
    expect(fs.readFileSync(file, "utf8")).toBe('{"status": "created", "kind": ');
  });

  it("rejects a JSON file that is not a state record, naming the path and the bad field", async () => {
    const store = open(STAGE);
    const cases: Array<[string, unknown, RegExp]> = [
      ["no-status", { ...state(STAGE, "no-status"), status: "gone" }, /status "gone"/],
      ["wrong-id", state(STAGE, "other"), /holds id "other"/],
      ["bad-deps", { ...state(STAGE, "bad-deps"), deps: "x" }, /"deps"/],
      ["bad-seq", { ...state(STAGE, "bad-seq"), seq: "1" }, /"seq"/],
      ["array", [1, 2], /an array, not a record/],
    ];
    for (const [id, value, problem] of cases) {
      const file = path.join(dir, "app/dev", `${id}.json`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(value));
      const error = await store.get(id).then(() => undefined, (e: unknown) => e);
      expect(error, id).toBeInstanceOf(StateStoreError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(problem);
      expect((error as Error).message).toContain("Restore it from a backup");
      expect(fs.readFileSync(file, "utf8")).toBe(JSON.stringify(value));
      fs.unlinkSync(file);
    }
  });

  it("never takes temp files, the journal or foreign files for records or scopes", async () => {
    const store = open(STAGE);
    await store.set("api", state(STAGE, "api"));
    const stage = path.join(dir, "app/dev");
    fs.writeFileSync(path.join(stage, "api.json~tmp-1a2b3c"), "{ half a rec");
    fs.writeFileSync(path.join(stage, "notes.txt"), "hello");
    fs.writeFileSync(path.join(stage, "bad name.json"), "{}");
    fs.mkdirSync(path.join(stage, "not a scope"));
    fs.writeFileSync(path.join(stage, "not a scope", "x.json"), JSON.stringify(state(STAGE, "x")));
    expect(await store.list()).toEqual(["api"]);
    expect(Object.keys(await store.all())).toEqual(["api"]);
    expect(await store.listScopes()).toEqual([]);
  });

  it("removes the directories a deleted last record leaves empty, up to the stage", async () => {
    const chain = [...STAGE, "backend", "inner"];
    await open(chain).set("db", state(chain, "db"));
    await open(STAGE).set("api", state(STAGE, "api"));
    await open(chain).delete("db");
    await flush();
    expect(fs.existsSync(path.join(dir, "app/dev/backend"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "app/dev/api.json"))).toBe(true);
    await open(chain).set("db", state(chain, "db")); // the directories come back
    expect(await open(chain).get("db")).toEqual(state(chain, "db"));
  });

  it("rejects invalid ids and scope names before creating anything on disk", async () => {
    const store = open(STAGE);
    for (const id of ["..", "a/b", "a\\b", "", "~journal", "x.json~tmp-1"]) {
      await expect(store.set(id, state(STAGE, id))).rejects.toBeInstanceOf(ScopeError);
      await expect(store.delete(id)).rejects.toBeInstanceOf(ScopeError);
    }
    expect(() => open([...STAGE, ".."])).toThrow(ScopeError);
    expect(() => open(["app", "~journal"])).toThrow(ScopeError);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("refuses a record whose id differs from the id it is stored under, or that JSON cannot hold", async () => {
    await expect(open(STAGE).set("api", state(STAGE, "web"))).rejects.toThrow(/holds id "web".*stored under id "api"/);
    await expect(open(STAGE).set("api", state(STAGE, "api", { output: { n: 1n } }))).rejects.toThrow(StateStoreError);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("refuses a record that clashes with a scope directory, and keeps accepting other writes", async () => {
    const clash = [...STAGE, "api.json"];
    await open(clash).set("inner", state(clash, "inner"));
    const stage = open(STAGE);
    await expect(stage.set("api", state(STAGE, "api"))).rejects.toThrow(/api\.json is a directory.*rename the scope/);
    await stage.set("web", state(STAGE, "web"));
    expect(await stage.list()).toEqual(["web"]);
    expect(await stage.listScopes()).toEqual(["api.json"]);
  });

  it("lets a store above the stage list stages and apps but not write", async () => {
    await open(STAGE).set("api", state(STAGE, "api"));
    await open(["app", "prod"]).set("api", state(["app", "prod"], "api"));
    expect((await open(["app"]).listScopes()).sort()).toEqual(["dev", "prod"]);
    expect(await open([]).listScopes()).toEqual(["app"]);
    expect(await open(["app"]).list()).toEqual([]);
    await expect(open(["app"]).set("api", state(["app"], "api"))).rejects.toThrow(/records live in a stage/);
  });

  it("shares one journal per stage, checkpoints it past checkpointBytes and empties it at the last deinit", async () => {
    const journal = path.join(dir, "app/dev/~journal");
    const a = open(STAGE, { checkpointBytes: 4096 });
    const b = open([...STAGE, "nested"]);
    await a.set("small", state(STAGE, "small"));
    expect(fs.statSync(journal).size).toBeGreaterThan(0);
    await b.set("big", state([...STAGE, "nested"], "big", { data: { blob: "x".repeat(8192) } }));
    // Past 4 KiB: checkpointed right after the commit that acknowledged the write.
    await vi.waitFor(() => expect(fs.statSync(journal).size).toBe(0));
    await a.set("small", state(STAGE, "small", { seq: 2 }));
    await a.deinit();
    expect(fs.statSync(journal).size).toBeGreaterThan(0); // b still holds it
    await b.deinit();
    expect(fs.statSync(journal).size).toBe(0);
    expect((await open(STAGE).get("small"))?.seq).toBe(2);
  });

  it("replays the complete journal entries and drops a torn last entry", async () => {
    const stage = path.join(dir, "app/dev");
    fs.mkdirSync(path.join(stage, "nested"), { recursive: true });
    fs.writeFileSync(path.join(stage, "doomed.json"), JSON.stringify(state(STAGE, "doomed")));
    fs.writeFileSync(path.join(stage, "kept.json"), JSON.stringify(state(STAGE, "kept")));
    fs.writeFileSync(path.join(stage, "nested", "c.json~tmp-dead01"), "{ half");
    const entries = [
      { op: "set", path: ["a"], state: state(STAGE, "a", { seq: 1 }) },
      { op: "set", path: ["a"], state: state(STAGE, "a", { seq: 2 }) },
      { op: "delete", path: ["doomed"] },
      { op: "set", path: ["nested", "c"], state: state([...STAGE, "nested"], "c") },
    ];
    const torn = JSON.stringify({ op: "delete", path: ["kept"] }).slice(0, 20);
    fs.writeFileSync(path.join(stage, "~journal"), entries.map((e) => JSON.stringify(e) + "\n").join("") + torn);

    const journalText = fs.readFileSync(path.join(stage, "~journal"), "utf8");
    const store = open(STAGE);
    // Read without the lock: the journal's complete entries are laid over the files, and nothing is changed.
    expect(await store.get("a")).toEqual(state(STAGE, "a", { seq: 2 }));
    expect(await store.get("doomed")).toBeUndefined();
    expect(await store.get("kept")).toEqual(state(STAGE, "kept"));
    expect(await open([...STAGE, "nested"]).get("c")).toEqual(state([...STAGE, "nested"], "c"));
    expect(fs.readFileSync(path.join(stage, "~journal"), "utf8")).toBe(journalText);
    expect(fs.readdirSync(path.join(stage, "nested"))).toEqual(["c.json~tmp-dead01"]);
    expect(fs.existsSync(path.join(stage, "doomed.json"))).toBe(true);

    // The first write takes the stage's lock, and only then is the journal replayed into the files and emptied.
    await store.set("after", state(STAGE, "after"));
    expect(fs.readdirSync(path.join(stage, "nested"))).toEqual(["c.json"]);
    expect(fs.existsSync(path.join(stage, "doomed.json"))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(stage, "a.json"), "utf8"))).toEqual(state(STAGE, "a", { seq: 2 }));
    expect(fs.readFileSync(path.join(stage, "~journal"), "utf8")).toMatch(/^\{"op":"set","path":\["after"\]/);
    expect(await store.get("kept")).toEqual(state(STAGE, "kept"));
  });

  it("lists a stage from above whose only record is still in its journal", async () => {
    const stage = path.join(dir, "app/dev");
    fs.mkdirSync(stage, { recursive: true });
    fs.writeFileSync(path.join(stage, "~journal"), JSON.stringify({ op: "set", path: ["api"], state: state(STAGE, "api") }) + "\n");
    const journalText = fs.readFileSync(path.join(stage, "~journal"), "utf8");
    expect(await open(["app"]).listScopes()).toEqual(["dev"]);
    expect(await open([]).listScopes()).toEqual(["app"]);
    expect(await open(STAGE).get("api")).toEqual(state(STAGE, "api"));
    expect(fs.readFileSync(path.join(stage, "~journal"), "utf8")).toBe(journalText); // read, never replayed by a reader
    expect(fs.readdirSync(stage)).toEqual(["~journal"]);
  });

  it("keeps every acknowledged write when the writing process is killed with SIGKILL, and the next writer clears what it left", { timeout: 60_000 }, async () => {
    const fixture = fileURLToPath(new URL("./crash-writer.test-fixture.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", fixture, dir], {
      cwd: fileURLToPath(new URL("../../..", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acked = new Map<string, "set" | "del">();
    const killAt = 200 + Math.floor(Math.random() * 600);
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    let buffered = "";
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    child.stdout.on("data", (chunk: Buffer) => {
      const lines = (buffered + chunk.toString()).split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const [op, scope, id] = line.split(" ");
        acked.set(`${scope} ${id}`, op as "set" | "del");
      }
      if (acked.size >= killAt) child.kill("SIGKILL");
    });
    expect(await exited, stderr).toBe("SIGKILL");

    for (const [scope, chain] of CRASH_CHAINS.entries()) {
      const store = open(chain);
      const all = await store.all(); // rejects if any record file does not parse
      for (const [id, record] of Object.entries(all)) expect(record, id).toEqual(crashRecord(chain, id));
      for (const [key, op] of acked) {
        const [s, id] = key.split(" ") as [string, string];
        if (Number(s) !== scope) continue;
        const deleteInFlight = op === "set" && Number(id.slice(2)) % DELETE_EVERY === 0;
        if (op === "del") expect(all[id], `${key} was deleted`).toBeUndefined();
        else if (!deleteInFlight) expect(all[id] !== undefined, `${key} was set`).toBe(true);
      }
    }
    // Reading changed nothing; the next writer (taking the dead holder's lock) replays and clears what it left.
    await open(STAGE).set("after-crash", state(STAGE, "after-crash"));
    const leftovers = fs.readdirSync(path.join(dir, "app/dev"), { recursive: true }) as string[];
    expect(leftovers.filter((name) => name.includes("~tmp-"))).toEqual([]);
  });

  // How fast is the benchmark's business (npm run bench); this checks that all() of a large scope is whole.
  it("reads 5,000 records of one scope with all(), each its own", { timeout: 60_000 }, async () => {
    const chain = [...STAGE, "many"];
    const store = open(chain);
    await Promise.all(Array.from({ length: 5000 }, (_, i) => store.set(`r-${i}`, state(chain, `r-${i}`, { seq: i }))));
    const all = await store.all();
    expect(Object.keys(all)).toHaveLength(5000);
    expect(Object.entries(all).every(([id, record]) => record.id === id && record.seq === Number(id.slice(2)))).toBe(true);
  });
});
