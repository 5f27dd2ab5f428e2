import { describe, expect, it } from "vitest";
import { call, inAccount, useFake } from "./fake-client.test-fixture.js";
import type { FakeCloudflare } from "./fake-cloudflare.test-fixture.js";

async function createDatabase(fake: FakeCloudflare, name: string): Promise<string> {
  const res = await call(fake, "POST", inAccount(fake, "/d1/database"), { json: { name } });
  expect(res.status).toBe(200);
  return res.body.result.uuid as string;
}

function query(fake: FakeCloudflare, uuid: string, sql: string, params?: unknown[]) {
  return call(fake, "POST", inAccount(fake, `/d1/database/${uuid}/query`), { json: params === undefined ? { sql } : { sql, params } });
}

describe("the fake Cloudflare API: D1 databases", () => {
  const fake = useFake();

  it("creates a database with a uuid, and refuses a second of the same name with 400 saying it already exists", async () => {
    const res = await call(fake(), "POST", inAccount(fake(), "/d1/database"), { json: { name: "main", primary_location_hint: "weur" } });
    expect(res.body.result).toMatchObject({ name: "main", version: "production", num_tables: 0, created_in_region: "WEUR" });
    expect(res.body.result.uuid).toMatch(/^[0-9a-f-]{36}$/);
    const again = await call(fake(), "POST", inAccount(fake(), "/d1/database"), { json: { name: "main" } });
    expect(again.status).toBe(400);
    expect(again.body.errors[0]).toEqual({ code: 7502, message: expect.stringContaining("already exists") });
    const badHint = await call(fake(), "POST", inAccount(fake(), "/d1/database"), { json: { name: "x", primary_location_hint: "mars" } });
    expect(badHint.status).toBe(400);
  });

  it("lists databases by page and filters by a name substring (clients must still compare names exactly)", async () => {
    for (let i = 0; i < 12; i++) await createDatabase(fake(), `db-${i}`);
    const page = await call(fake(), "GET", inAccount(fake(), "/d1/database?per_page=10&page=2"));
    expect(page.body.result).toHaveLength(2);
    expect(page.body.result_info).toEqual({ page: 2, per_page: 10, count: 2, total_count: 12, total_pages: 2 });
    const named = await call(fake(), "GET", inAccount(fake(), "/d1/database?name=db-1"));
    expect(named.body.result.map((database: { name: string }) => database.name).sort()).toEqual(["db-1", "db-10", "db-11"]);
  });

  it("gets and deletes a database, then answers 404 for it", async () => {
    const uuid = await createDatabase(fake(), "short-lived");
    expect((await call(fake(), "GET", inAccount(fake(), `/d1/database/${uuid}`))).body.result).toMatchObject({ uuid, name: "short-lived" });
    expect((await call(fake(), "DELETE", inAccount(fake(), `/d1/database/${uuid}`))).body).toMatchObject({ success: true, result: null });
    const gone = await call(fake(), "GET", inAccount(fake(), `/d1/database/${uuid}`));
    expect(gone.status).toBe(404);
    expect(gone.body.errors[0].code).toBe(7404);
    expect((await query(fake(), uuid, "SELECT 1")).status).toBe(404);
  });

  it("hides a just-created database from GETs for the scripted window", async () => {
    fake().notVisibleAfterCreate("d1_database", 60_000);
    const uuid = await createDatabase(fake(), "eventually");
    expect((await call(fake(), "GET", inAccount(fake(), `/d1/database/${uuid}`))).status).toBe(404);
    fake().notVisibleAfterCreate("d1_database", 0);
    expect((await call(fake(), "GET", inAccount(fake(), `/d1/database/${uuid}`))).status).toBe(200);
  });
});

describe("the fake Cloudflare API: D1 queries", () => {
  const fake = useFake();

  it("runs SQL on SQLite and answers one result per statement in D1's shape", async () => {
    const uuid = await createDatabase(fake(), "q");
    const setup = await query(fake(), uuid, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO users (name) VALUES ('ada'), ('bob');");
    expect(setup.status).toBe(200);
    expect(setup.body.result).toHaveLength(2);
    expect(setup.body.result[1]).toMatchObject({ results: [], success: true, meta: { changes: 2, last_row_id: 2, rows_written: 2, changed_db: true } });
    expect(typeof setup.body.result[1].meta.duration).toBe("number");

    const insert = await query(fake(), uuid, "INSERT INTO users (name) VALUES (?)", ["cy"]);
    expect(insert.body.result[0].meta).toMatchObject({ changes: 1, last_row_id: 3 });
    const select = await query(fake(), uuid, "SELECT id, name FROM users WHERE id >= ?1 ORDER BY id", [2]);
    expect(select.body.result).toEqual([
      {
        results: [
          { id: 2, name: "bob" },
          { id: 3, name: "cy" },
        ],
        success: true,
        meta: expect.objectContaining({ rows_read: 2, changes: 0 }),
      },
    ]);
    expect((await call(fake(), "GET", inAccount(fake(), `/d1/database/${uuid}`))).body.result.num_tables).toBe(1);
    expect(fake().state.d1Databases.get(uuid)!.db.prepare("SELECT count(*) AS n FROM users").get()).toEqual({ n: 3 });
  });

  it("answers a failing statement with 400 and SQLite's message, undoing the statements before it", async () => {
    const uuid = await createDatabase(fake(), "err");
    await query(fake(), uuid, "CREATE TABLE t (x TEXT)");
    const res = await query(fake(), uuid, "INSERT INTO t VALUES ('kept?'); SELEC nonsense");
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.errors[0]).toEqual({ code: 7500, message: expect.stringContaining('near "SELEC": syntax error') });
    expect((await query(fake(), uuid, "SELECT count(*) AS n FROM t")).body.result[0].results).toEqual([{ n: 0 }]);
    const missing = await query(fake(), uuid, "SELECT * FROM nowhere");
    expect(missing.body.errors[0].message).toContain("no such table: nowhere");
  });

  it("refuses params with several statements, and a body without sql", async () => {
    const uuid = await createDatabase(fake(), "p");
    expect((await query(fake(), uuid, "SELECT ?; SELECT ?", [1])).status).toBe(400);
    expect((await call(fake(), "POST", inAccount(fake(), `/d1/database/${uuid}/query`), { json: {} })).status).toBe(400);
  });
});
