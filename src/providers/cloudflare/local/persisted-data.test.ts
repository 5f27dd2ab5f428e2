import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { LocalRuntime } from "./local-runtime.js";
import { tempDir } from "./local-runtime.test-fixture.js";
import { hasPersistedData, persistedPaths } from "./persisted-data.js";

/** Writes one row, one KV value and one R2 object into resources `suffix` (at once: their declarations share one restart). */
async function writeData(runtime: LocalRuntime, suffix: string): Promise<void> {
  await Promise.all([
    runtime.use("d1", `local-db-${suffix}`, async (db) => {
      await db.batch([db.prepare("CREATE TABLE IF NOT EXISTS notes (body TEXT)"), db.prepare("INSERT INTO notes VALUES ('kept')")]);
    }),
    runtime.use("kv", `local-kv-${suffix}`, (kv) => kv.put("key", "kept")),
    runtime.use("r2", `bucket-${suffix}`, async (r2) => {
      await r2.put("object", "kept");
    }),
  ]);
}

/** What `writeData` wrote, as found now (undefined where it is gone). */
async function readData(runtime: LocalRuntime, suffix: string) {
  const [rows, value, object] = await Promise.all([
    runtime.use("d1", `local-db-${suffix}`, async (db) => {
      const tables = await db.prepare("SELECT name FROM sqlite_master WHERE name = 'notes'").all();
      return tables.results.length === 0 ? undefined : (await db.prepare("SELECT body FROM notes").all()).results;
    }),
    runtime.use("kv", `local-kv-${suffix}`, (kv) => kv.get("key")),
    runtime.use("r2", `bucket-${suffix}`, async (r2) => {
      const found = await r2.get("object");
      return found === null ? undefined : new TextDecoder().decode(await found.arrayBuffer());
    }),
  ]);
  return { rows, value: value ?? undefined, object };
}

describe("persisted data of local resources", () => {
  const root = tempDir("persisted-data");
  const runtimes: LocalRuntime[] = [];
  const newRuntime = () => {
    const runtime = new LocalRuntime({ persistRoot: root, warn: () => {}, output: () => {} });
    runtimes.push(runtime);
    return runtime;
  };

  afterAll(async () => {
    for (const runtime of runtimes) await runtime.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("keeps D1, KV and R2 data across a dispose, for a new runtime on the same persist root", async () => {
    const first = newRuntime();
    await Promise.all([writeData(first, "a"), writeData(first, "b")]);
    expect(first.starts).toBe(1);
    await first.dispose();

    const second = newRuntime();
    expect(await readData(second, "a")).toEqual({ rows: [{ body: "kept" }], value: "kept", object: "kept" });
    await second.dispose();
  });

  it("names the files Miniflare writes for a resource id (the SQLite file is named by a hash of the id)", () => {
    for (const [kind, id] of [["d1", "local-db-a"], ["kv", "local-kv-a"], ["r2", "bucket-a"]] as const) {
      const [sqlite, , , blobs] = persistedPaths(root, kind, id);
      expect(fs.existsSync(sqlite!), `${kind} ${sqlite}`).toBe(true);
      if (kind !== "d1") expect(fs.existsSync(blobs!), `${kind} ${blobs}`).toBe(true);
    }
  });

  it("GIVEN a running runtime WHEN deleteData THEN the resource's files are gone, it starts empty when used again, and other resources keep theirs", async () => {
    const runtime = newRuntime();
    expect(await readData(runtime, "a")).toEqual({ rows: [{ body: "kept" }], value: "kept", object: "kept" });
    await Promise.all([runtime.deleteData("d1", "local-db-a"), runtime.deleteData("kv", "local-kv-a"), runtime.deleteData("r2", "bucket-a")]);

    expect(hasPersistedData(root, "d1", "local-db-a")).toBe(false);
    expect(hasPersistedData(root, "kv", "local-kv-a")).toBe(false);
    expect(hasPersistedData(root, "r2", "bucket-a")).toBe(false);
    expect(runtime.isDeclared("kv", "local-kv-a")).toBe(false);
    expect(await readData(runtime, "a")).toEqual({ rows: undefined, value: undefined, object: undefined });
    expect(await readData(runtime, "b")).toEqual({ rows: [{ body: "kept" }], value: "kept", object: "kept" });
    await runtime.dispose();
  });

  it("deletes the data of a resource without starting workerd when the runtime has not started", async () => {
    const runtime = newRuntime();
    expect(hasPersistedData(root, "kv", "local-kv-b")).toBe(true);
    await runtime.deleteData("kv", "local-kv-b");
    expect(hasPersistedData(root, "kv", "local-kv-b")).toBe(false);
    expect(runtime.started).toBe(false);
  });
});
