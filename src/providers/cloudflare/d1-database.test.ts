import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import alchemy from "alchemy";
import { D1Database } from "alchemy/cloudflare";
import { memoryState } from "../../core/world.test-fixture.js";

describe("a local D1Database", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "alchemy-d1-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const state = memoryState();
  const run = async (props: Parameters<typeof D1Database>[1], body?: (db: Awaited<ReturnType<typeof D1Database>>) => Promise<void>) => {
    const app = await alchemy("app", { ...state.options(), rootDir: dir, local: true, quiet: true });
    try {
      const db = await D1Database("db", props);
      await body?.(db);
      await app.finalize();
    } catch (error) {
      await app.release();
      throw error;
    }
  };

  it("applies each migration once, in name order, and a new file on the next deploy", async () => {
    mkdirSync(path.join(dir, "migrations"));
    writeFileSync(path.join(dir, "migrations", "0001_users.sql"), "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO users (name) VALUES ('ada');");
    await run({ migrationsDir: "migrations" });
    await run({ migrationsDir: "migrations" });
    writeFileSync(path.join(dir, "migrations", "0002_more.sql"), "INSERT INTO users (name) VALUES ('bob');");
    await run({ migrationsDir: "migrations" }, async (db) => {
      expect((await db.query<{ name: string }>("SELECT name FROM users ORDER BY id")).rows.map((r) => r.name)).toEqual(["ada", "bob"]);
      expect((await db.query<{ name: string }>("SELECT name FROM d1_migrations ORDER BY id")).rows.map((r) => r.name)).toEqual(["0001_users.sql", "0002_more.sql"]);
    });
  });

  it("refuses a new name, which would delete the data, unless replace: \"allow\" says so; nothing is touched", async () => {
    await expect(run({ migrationsDir: "migrations", name: "renamed-db" })).rejects.toThrow(
      /D1Database app\/test\/db: the name changes \(app-db-test -> renamed-db\).*Nothing was changed\. To go ahead, set replace: "allow"/,
    );
    await run({ migrationsDir: "migrations" }, async (db) => {
      expect((await db.query("SELECT name FROM users")).rows).toHaveLength(2);
    });
    await run({ migrationsDir: "migrations", name: "renamed-db", replace: "allow" }, async (db) => {
      expect(db.name).toBe("renamed-db");
      expect((await db.query("SELECT name FROM users")).rows).toHaveLength(2); // migrations ran on the new, empty database
    });
  });
});
