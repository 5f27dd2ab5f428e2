/**
 * D1 migrations: the `.sql` files of a directory, applied once each, in the
 * order of their names, and tracked in the database itself (table
 * `d1_migrations`, as wrangler keeps it), so that a database made elsewhere
 * with the same files is not migrated twice.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ResourceError } from "../../core/errors.js";
import type { CloudflareBackend } from "./backend.js";

/** One migration file: its name and a hash of its text (in props, so that a new or edited file is a change). */
export interface MigrationFile {
  name: string;
  sha256: string;
}

const TABLE = "d1_migrations";

/** The `.sql` files of `dir`, sorted by name. */
export async function migrationFiles(dir: string, fqn: string): Promise<MigrationFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith(".sql")).sort();
  } catch (error) {
    throw new ResourceError(
      `D1Database ${fqn}: cannot read migrationsDir ${dir}: ${(error as Error).message}. Create the directory, or fix the migrationsDir prop.`,
      fqn,
      "create",
      { cause: error },
    );
  }
  return Promise.all(names.map(async (name) => ({ name, sha256: createHash("sha256").update(await readFile(path.join(dir, name))).digest("hex") })));
}

/**
 * Applies the files of `dir` not yet recorded in the database's
 * `d1_migrations`; resolves the names applied now. `listed` is what
 * {@link migrationFiles} found when the program ran, if it ran just now.
 */
export async function applyMigrations(
  backend: CloudflareBackend,
  database: { name: string; id: string },
  dir: string,
  fqn: string,
  operation: "create" | "update",
  listed?: readonly MigrationFile[],
): Promise<string[]> {
  const files = listed ?? (await migrationFiles(dir, fqn));
  await backend.execD1(
    database,
    `CREATE TABLE IF NOT EXISTS ${TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
  );
  const applied = new Set((await backend.queryD1<{ name: string }>(database, `SELECT name FROM ${TABLE}`)).rows.map((row) => row.name));
  const done: string[] = [];
  for (const file of files) {
    if (applied.has(file.name)) continue;
    const sql = await readFile(path.join(dir, file.name), "utf8");
    try {
      if (sql.trim().length > 0) await backend.execD1(database, sql);
    } catch (error) {
      throw new ResourceError(
        `D1Database ${fqn}: migration ${path.join(dir, file.name)} failed: ${(error as Error).message}. ` +
          `Migrations before it are applied${done.length ? ` (${done.join(", ")} in this run)` : ""}; fix the file and deploy again.`,
        fqn,
        operation,
        { cause: error },
      );
    }
    await backend.queryD1(database, `INSERT INTO ${TABLE} (name) VALUES (?)`, [file.name]);
    done.push(file.name);
  }
  return done;
}
