// Seed 001's Example 3: a test with its own scope and real (local) resources,
// all of them destroyed when the test ends.
import alchemy from "alchemy";
import { D1Database, Worker } from "alchemy/cloudflare";
import { describe, expect, it } from "vitest";

describe("API Integration", () => {
  it("should create and query database", async () => {
    await alchemy.test(import.meta, { local: true }, async () => {
      const db = await D1Database("test-db");
      const worker = await Worker("test-worker");

      await db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)");
      const result = await db.query("SELECT * FROM users");
      expect(result.rows).toEqual([]);

      expect((await worker.fetch("/")).status).toBe(200);
    });
  });
});
