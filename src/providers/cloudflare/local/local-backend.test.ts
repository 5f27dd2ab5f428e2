import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { LocalBackend } from "./local-backend.js";
import { LocalRuntimeError } from "./local-runtime-error.js";
import { LocalRuntime } from "./local-runtime.js";
import { eventually, tempDir, textWorker, workerSpec } from "./local-runtime.test-fixture.js";
import { hasPersistedData } from "./persisted-data.js";

const MIGRATION = `
-- a migration as a user writes it: statements over several lines, a ';' in a string, a trigger
CREATE TABLE notes (
  id INTEGER PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE counts (n INTEGER);
INSERT INTO counts VALUES (0);
CREATE TRIGGER count_notes AFTER INSERT ON notes BEGIN
  UPDATE counts SET n = n + 1;
END;
INSERT INTO notes (body) VALUES ('first; with a semicolon');
`;

describe("LocalBackend", () => {
  const root = tempDir("local-backend");
  const backend = new LocalBackend(new LocalRuntime({ persistRoot: root, warn: () => {}, output: () => {} }));

  afterAll(async () => {
    await backend.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("is the local backend", () => {
    expect(backend.mode).toBe("local");
  });

  it("creates resources made at the same time with one start of workerd, with ids derived from their names", async () => {
    const [db, kv, , queue] = await Promise.all([
      backend.createD1Database("my-app-db", { adopt: false }),
      backend.createKVNamespace("my-app-sessions", { adopt: false }),
      backend.createR2Bucket("my-app-uploads", { adopt: false }),
      backend.createQueue("my-app-jobs", { adopt: false }),
    ]);
    expect(backend.runtime.starts).toBe(1);
    expect([db.id, kv.id, queue.id]).toEqual(["local-my-app-db", "local-my-app-sessions", "local-my-app-jobs"]);
    expect(await backend.createD1Database("my-app-db", { adopt: true })).toEqual(db);
    expect(backend.runtime.starts).toBe(1);
  });

  describe("D1", () => {
    const db = { name: "my-app-db", id: "local-my-app-db" };

    it("runs a migration of several statements, then queries with parameters and reports changes and the last row id", async () => {
      await backend.createD1Database(db.name, { adopt: false });
      await backend.execD1(db, MIGRATION);
      const inserted = await backend.queryD1(db, "INSERT INTO notes (body) VALUES (?)", ["second"]);
      // D1 counts the rows the trigger changed too.
      expect(inserted.meta).toMatchObject({ changes: 2, lastRowId: 2 });
      expect(inserted.meta.durationMs).toBeGreaterThanOrEqual(0);
      const selected = await backend.queryD1<{ id: number; body: string }>(db, "SELECT id, body FROM notes WHERE id >= ? ORDER BY id", [1]);
      expect(selected.rows).toEqual([{ id: 1, body: "first; with a semicolon" }, { id: 2, body: "second" }]);
      expect((await backend.queryD1(db, "SELECT n FROM counts")).rows).toEqual([{ n: 2 }]);
    });

    it("runs a migration as one transaction: a failing statement leaves nothing of it, and the error names the database", async () => {
      const failure = await backend.execD1(db, "CREATE TABLE half (a INTEGER);\nINSERT INTO missing VALUES (1);").catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(LocalRuntimeError);
      expect((failure as Error).message).toMatch(/^D1 database "my-app-db" \(local\): .*no such table: missing/);
      expect((await backend.queryD1(db, "SELECT name FROM sqlite_master WHERE name = 'half'")).rows).toEqual([]);
    });

    it("deletes a database with its data; deleting it again succeeds", async () => {
      await backend.deleteD1Database(db);
      expect(hasPersistedData(root, "d1", db.id)).toBe(false);
      await backend.deleteD1Database(db);
      await backend.createD1Database(db.name, { adopt: false });
      expect((await backend.queryD1(db, "SELECT name FROM sqlite_master WHERE name = 'notes'")).rows).toEqual([]);
    });
  });

  describe("KV", () => {
    const namespace = { id: "local-my-app-sessions", title: "my-app-sessions" };

    it("puts, gets, lists by prefix and deletes values", async () => {
      await backend.kvPut(namespace, "user:1", "alice");
      await backend.kvPut(namespace, "user:2", "bob", { expirationTtl: 3600 });
      await backend.kvPut(namespace, "other", "x");
      expect(await backend.kvGet(namespace, "user:1")).toBe("alice");
      expect(await backend.kvList(namespace, { prefix: "user:" })).toEqual(["user:1", "user:2"]);
      await backend.kvDelete(namespace, "user:1");
      expect(await backend.kvGet(namespace, "user:1")).toBeNull();
      expect(await backend.kvList(namespace)).toEqual(["other", "user:2"]);
    });

    it("renames a namespace without touching its data (locally it is known by its id)", async () => {
      await backend.renameKVNamespace(namespace, "renamed");
      expect(await backend.kvGet(namespace, "user:2")).toBe("bob");
    });

    it("deletes a namespace with its data; deleting it again succeeds", async () => {
      await backend.deleteKVNamespace(namespace);
      expect(hasPersistedData(root, "kv", namespace.id)).toBe(false);
      await backend.deleteKVNamespace(namespace);
      expect(await backend.kvList(namespace)).toEqual([]);
    });
  });

  describe("R2", () => {
    const bucket = { name: "my-app-uploads" };

    it("puts text and bytes, gets them with size and etag, lists by prefix, answers null for a missing key", async () => {
      await backend.r2Put(bucket, "docs/a.txt", "hello");
      await backend.r2Put(bucket, "docs/b.bin", new Uint8Array([1, 2, 3]));
      await backend.r2Put(bucket, "top.txt", "top");
      const text = await backend.r2Get(bucket, "docs/a.txt");
      expect(text).toMatchObject({ key: "docs/a.txt", size: 5 });
      expect(text!.etag).toMatch(/^[0-9a-f]{32}$/);
      expect(await text!.text()).toBe("hello");
      const bytes = await backend.r2Get(bucket, "docs/b.bin");
      expect([...new Uint8Array(await bytes!.arrayBuffer())]).toEqual([1, 2, 3]);
      expect(await backend.r2List(bucket, { prefix: "docs/" })).toEqual(["docs/a.txt", "docs/b.bin"]);
      expect(await backend.r2Get(bucket, "missing")).toBeNull();
      await backend.r2Delete(bucket, "top.txt");
      expect(await backend.r2List(bucket)).toEqual(["docs/a.txt", "docs/b.bin"]);
    });

    it("refuses to delete a bucket that holds objects, naming it and saying empty: true deletes them", async () => {
      const failure = await backend.deleteR2Bucket(bucket, { empty: false }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(LocalRuntimeError);
      expect((failure as LocalRuntimeError).code).toBe("bucket-not-empty");
      expect((failure as Error).message).toContain(`R2 bucket "my-app-uploads" cannot be deleted: it holds 2 objects`);
      expect((failure as Error).message).toContain("empty: true");
      expect(await backend.r2List(bucket)).toHaveLength(2);
    });

    it("deletes a bucket with its objects when empty is set; deleting it again, or one never made, succeeds", async () => {
      await backend.deleteR2Bucket(bucket, { empty: true });
      expect(hasPersistedData(root, "r2", bucket.name)).toBe(false);
      await backend.deleteR2Bucket(bucket, { empty: false });
      const starts = backend.runtime.starts;
      await backend.deleteR2Bucket({ name: "never-made" }, { empty: false });
      expect(backend.runtime.starts).toBe(starts);
    });
  });

  describe("queues and Workers", () => {
    const queue = { name: "my-app-jobs", id: "local-my-app-jobs" };

    it("sends a message from Node that the queue's consumer Worker receives", async () => {
      const sessions = await backend.createKVNamespace("my-app-received", { adopt: false });
      await backend.putWorker(
        workerSpec("my-app-consumer", `export default { async queue(batch, env) { for (const m of batch.messages) await env.KV.put("got", JSON.stringify(m.body)); } };`, {
          bindings: [{ type: "kv_namespace", name: "KV", namespace_id: sessions.id }],
          queueConsumers: [{ queue: queue.name, maxBatchTimeout: 0.1 }],
        }),
        { adopt: false, created: true },
      );
      await backend.queueSend(queue, { job: 42, tags: ["a"] });
      const got = await eventually(async () => (await backend.kvGet(sessions, "got")) ?? undefined);
      expect(JSON.parse(got)).toEqual({ job: 42, tags: ["a"] });
    });

    it("deletes a queue; deleting it again succeeds", async () => {
      await backend.deleteQueue(queue);
      await backend.deleteQueue(queue);
      expect(backend.runtime.isDeclared("queue", queue.name)).toBe(false);
    });

    it("serves a Worker at the URL and port it returns, and stops when it is deleted (twice is fine)", async () => {
      const endpoint = await backend.putWorker(textWorker("my-app-web", "web"), { adopt: false, created: true });
      expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}/`);
      expect(await (await fetch(endpoint.url!)).text()).toBe("web");
      await backend.deleteWorker({ name: "my-app-web" });
      await backend.deleteWorker({ name: "my-app-web" });
      await expect(fetch(endpoint.url!)).rejects.toThrow();
    });
  });
});
