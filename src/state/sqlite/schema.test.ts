import Sqlite from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { MIGRATIONS, SCHEMA_VERSION, migrate, schemaVersion, type Migration } from "./schema.js";

const FILE = "/abs/state.sqlite";

function tables(db: Sqlite.Database): unknown[] {
  return db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
}

describe("the state database schema", () => {
  it("brings a new database to the current version, and a second run changes nothing", () => {
    const db = new Sqlite(":memory:");
    expect(schemaVersion(db)).toBe(0);
    migrate(db, FILE);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(4);
    expect(tables(db)).toEqual(["meta", "records", "stage_history", "stage_locks", "stage_meta"]);
    migrate(db, FILE);
    expect(schemaVersion(db)).toBe(4);
  });

  it("brings a version 1 database (records only) to the current version, adding stage_locks and stage_meta and keeping its records", () => {
    const db = new Sqlite(":memory:");
    migrate(db, FILE, MIGRATIONS.slice(0, 1));
    db.prepare("INSERT INTO records VALUES ('app/dev', 'api', '{}', 1)").run();
    expect(schemaVersion(db)).toBe(1);
    migrate(db, FILE);
    expect(schemaVersion(db)).toBe(4);
    expect(tables(db)).toEqual(["meta", "records", "stage_history", "stage_locks", "stage_meta"]);
    expect(db.prepare("SELECT count(*) FROM records").pluck().get()).toBe(1);
    const columns = db.prepare("SELECT name, \"notnull\", pk FROM pragma_table_info('stage_locks') ORDER BY cid").raw().all();
    expect(columns).toEqual([
      ["app", 1, 1], ["stage", 1, 2], ["id", 0, 0], ["token", 1, 0], ["holder", 0, 0],
      ["acquired_at", 0, 0], ["heartbeat_at", 0, 0], ["lease_ms", 0, 0],
    ]);
  });

  it("brings a version 2 database to version 3, adding stage_meta keyed by app and stage and keeping records and locks", () => {
    const db = new Sqlite(":memory:");
    migrate(db, FILE, MIGRATIONS.slice(0, 2));
    db.prepare("INSERT INTO records VALUES ('app/dev', 'api', '{}', 1)").run();
    db.prepare("INSERT INTO stage_locks VALUES ('app', 'dev', NULL, 4, NULL, NULL, NULL, NULL)").run();
    expect(schemaVersion(db)).toBe(2);
    migrate(db, FILE, MIGRATIONS.slice(0, 3));
    expect(schemaVersion(db)).toBe(3);
    expect(db.prepare("SELECT count(*) FROM records").pluck().get()).toBe(1);
    expect(db.prepare("SELECT token FROM stage_locks").pluck().get()).toBe(4);
    const columns = db.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info('stage_meta') ORDER BY cid").raw().all();
    expect(columns).toEqual([["app", "TEXT", 1, 1], ["stage", "TEXT", 1, 2], ["body", "TEXT", 1, 0], ["updated_at", "INTEGER", 1, 0]]);
    expect(db.prepare("SELECT count(*) FROM stage_meta").pluck().get()).toBe(0);
  });

  it("brings a version 3 database to version 4, adding stage_history keyed by app, stage and run and keeping records and metadata", () => {
    const db = new Sqlite(":memory:");
    migrate(db, FILE, MIGRATIONS.slice(0, 3));
    db.prepare("INSERT INTO records VALUES ('app/dev', 'api', '{}', 1)").run();
    db.prepare("INSERT INTO stage_meta VALUES ('app', 'dev', '{}', 1)").run();
    migrate(db, FILE);
    expect(schemaVersion(db)).toBe(4);
    expect(db.prepare("SELECT count(*) FROM records").pluck().get()).toBe(1);
    expect(db.prepare("SELECT count(*) FROM stage_meta").pluck().get()).toBe(1);
    const columns = db.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info('stage_history') ORDER BY cid").raw().all();
    expect(columns).toEqual([
      ["app", "TEXT", 1, 1], ["stage", "TEXT", 1, 2], ["run", "TEXT", 1, 3], ["entry", "TEXT", 1, 0], ["snapshot", "BLOB", 1, 0], ["updated_at", "INTEGER", 1, 0],
    ]);
  });

  it("runs a later migration once, on a database at an earlier version, keeping its records", () => {
    const db = new Sqlite(":memory:");
    migrate(db, FILE);
    db.prepare("INSERT INTO records VALUES ('app/dev', 'api', '{}', 1)").run();
    let runs = 0;
    const next: Migration[] = [
      ...MIGRATIONS,
      {
        version: 5,
        description: "add an index on updated_at",
        up(d) {
          runs++;
          d.exec("CREATE INDEX records_updated_at ON records (updated_at)");
        },
      },
    ];
    migrate(db, FILE, next);
    migrate(db, FILE, next);
    expect(runs).toBe(1);
    expect(schemaVersion(db)).toBe(5);
    expect(db.prepare("SELECT count(*) FROM records").pluck().get()).toBe(1);
  });

  it("rolls back a failing migration step, leaving the version it had", () => {
    const db = new Sqlite(":memory:");
    migrate(db, FILE);
    const broken: Migration[] = [
      ...MIGRATIONS,
      {
        version: 5,
        description: "a step that fails half way",
        up(d) {
          d.exec("CREATE TABLE half_done (x)");
          d.exec("THIS IS NOT SQL");
        },
      },
    ];
    expect(() => migrate(db, FILE, broken)).toThrow(/Cannot bring the state database \/abs\/state\.sqlite to schema version 5 \(a step that fails half way\)/);
    expect(schemaVersion(db)).toBe(4);
    expect(tables(db)).toEqual(["meta", "records", "stage_history", "stage_locks", "stage_meta"]);
  });

  it("refuses a database with a newer or unreadable version, naming the file", () => {
    for (const [value, message] of [["7", /schema version 7, but this version of alchemy knows versions up to 4/], ["x", /not a version number/]] as const) {
      const db = new Sqlite(":memory:");
      migrate(db, FILE);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(value);
      const error = (() => {
        try {
          migrate(db, FILE);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).location).toBe(FILE);
      expect((error as Error).message).toMatch(message);
      expect(db.prepare("SELECT value FROM meta").pluck().get()).toBe(value);
    }
  });

  it("refuses, naming the file, a database that already has an unrelated records table", () => {
    const db = new Sqlite(":memory:");
    db.exec("CREATE TABLE records (name TEXT)");
    expect(() => migrate(db, FILE)).toThrow(/\/abs\/state\.sqlite.*already exists.*choose another filename/);
    expect(schemaVersion(db)).toBe(0);
  });
});
