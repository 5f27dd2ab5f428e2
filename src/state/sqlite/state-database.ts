/**
 * One open state database: the records of every application, stage and scope
 * kept in one SQLite file, read with prepared statements and written by group
 * commit.
 *
 * @module
 */
import type { Database, Statement } from "better-sqlite3";
import { databaseError, recordLocation } from "./database-errors.js";
import { openStateDatabase } from "./open-database.js";
import { RECORDS_TABLE } from "./schema.js";
import { WriteBatcher } from "./write-batcher.js";

/** A write of one record, committed with the others of its batch. */
export interface RecordWrite {
  /** Scope path, e.g. `my-app/prod/backend`. */
  scope: string;
  id: string;
  /** The record as JSON, or `null` to remove it. */
  body: string | null;
  /**
   * Checked inside the write transaction, before the write: an error leaves
   * this write out and rejects it alone while the rest of the batch commits.
   * This is where a stage lock will fence writes (a `stage_locks` row read in
   * the same transaction).
   */
  precondition?: (db: Database) => Error | undefined;
}

/**
 * The state database in `filename`, open in this process. Get one through
 * `acquireDatabase` so that every store of the file shares it.
 *
 * Every read first commits the writes already requested in this process, so
 * a reader sees them; other processes see a write once its promise resolved.
 *
 * @example
 * const db = new StateDatabase("/abs/.alchemy/state.sqlite");
 * await db.write({ scope: "app/dev", id: "api", body: JSON.stringify(state) });
 * db.body("app/dev", "api"); // the JSON text
 * db.close();
 */
export class StateDatabase {
  /** Absolute path of the database file. */
  readonly filename: string;
  readonly #db: Database;
  readonly #batcher: WriteBatcher<RecordWrite>;
  readonly #apply: (writes: readonly RecordWrite[], now: number, outcomes: (Error | undefined)[]) => void;
  readonly #select: {
    body: Statement<[string, string], string>;
    ids: Statement<[string], string>;
    rows: Statement<[string], [string, unknown]>;
    count: Statement<[string], number>;
    newest: Statement<[string], number | null>;
    stages: Statement<[], string>;
    children: Statement<[{ prefix: string }], string>;
  };

  /** @throws StateStoreError naming `filename` when it cannot be opened or migrated. */
  constructor(filename: string) {
    this.filename = filename;
    const db = (this.#db = openStateDatabase(filename));
    try {
      const upsert = db.prepare<[string, string, string, number]>(
        `INSERT INTO ${RECORDS_TABLE} (scope, id, body, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (scope, id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
      );
      const remove = db.prepare<[string, string]>(`DELETE FROM ${RECORDS_TABLE} WHERE scope = ? AND id = ?`);
      this.#apply = db.transaction((writes: readonly RecordWrite[], now: number, outcomes: (Error | undefined)[]) => {
        for (const write of writes) {
          const refused = write.precondition?.(db);
          outcomes.push(refused);
          if (refused !== undefined) continue;
          if (write.body === null) remove.run(write.scope, write.id);
          else upsert.run(write.scope, write.id, write.body, now);
        }
      }).immediate;
      // '0' is the character after '/', so [prefix + '/', prefix + '0') holds exactly the scopes below prefix;
      // LIKE would take the '_' and '%' of names for wildcards.
      const childName = (rest: string) => `substr(${rest}, 1, instr(${rest} || '/', '/') - 1)`;
      this.#select = {
        body: db.prepare<[string, string], string>(`SELECT body FROM ${RECORDS_TABLE} WHERE scope = ? AND id = ?`).pluck(),
        ids: db.prepare<[string], string>(`SELECT id FROM ${RECORDS_TABLE} WHERE scope = ? ORDER BY id`).pluck(),
        rows: db.prepare<[string], [string, unknown]>(`SELECT id, body FROM ${RECORDS_TABLE} WHERE scope = ? ORDER BY id`).raw(),
        count: db.prepare<[string], number>(`SELECT count(*) FROM ${RECORDS_TABLE} WHERE scope = ?`).pluck(),
        newest: db.prepare<[string], number | null>(`SELECT max(updated_at) FROM ${RECORDS_TABLE} WHERE scope = ?`).pluck(),
        stages: db.prepare<[], string>(`SELECT DISTINCT ${childName("scope")} FROM ${RECORDS_TABLE}`).pluck(),
        children: db
          .prepare<[{ prefix: string }], string>(
            `SELECT DISTINCT ${childName("rest")} FROM (
               SELECT substr(scope, length(@prefix) + 2) AS rest FROM ${RECORDS_TABLE}
               WHERE scope > @prefix || '/' AND scope < @prefix || '0')`,
          )
          .pluck(),
      };
    } catch (error) {
      db.close();
      throw databaseError(filename, "Cannot prepare the state database's statements", error);
    }
    this.#batcher = new WriteBatcher<RecordWrite>(
      (writes) => {
        const outcomes: (Error | undefined)[] = [];
        this.#apply(writes, Date.now(), outcomes);
        return outcomes;
      },
      (write, error, size) =>
        databaseError(
          recordLocation(filename, write.scope, write.id),
          `Cannot ${write.body === null ? "delete" : "write"} the record: the transaction of ${size} write(s) ` +
            `holding it failed, and none of them was committed`,
          error,
        ),
    );
  }

  /** Transactions committed (or failed) so far by this connection's group commit. */
  get batches(): number {
    return this.#batcher.batches;
  }

  /** Queues a write; resolves once it is committed (durable), rejects if its transaction failed. */
  write(write: RecordWrite): Promise<void> {
    return this.#batcher.write(write);
  }

  /** The stored body of the record `id` of `scope` (a string unless someone else wrote the row), or `undefined`. */
  body(scope: string, id: string): unknown {
    return this.#read(scope, () => this.#select.body.get(scope, id));
  }

  /** Ids of the records of `scope`, sorted. */
  ids(scope: string): string[] {
    return this.#read(scope, () => this.#select.ids.all(scope));
  }

  /** `[id, body]` of every record of `scope`, sorted by id. */
  rows(scope: string): [string, unknown][] {
    return this.#read(scope, () => this.#select.rows.all(scope));
  }

  /** Number of records of `scope`. */
  count(scope: string): number {
    return this.#read(scope, () => this.#select.count.get(scope) ?? 0);
  }

  /** When a record of `scope` was last written (ms since the epoch), or `undefined` if it has none. */
  newestUpdate(scope: string): number | undefined {
    return this.#read(scope, () => this.#select.newest.get(scope) ?? undefined);
  }

  /** Names of the direct child scopes of `scope` ("" for the root) that hold a record somewhere below. */
  childScopes(scope: string): string[] {
    return this.#read(scope, () => (scope === "" ? this.#select.stages.all() : this.#select.children.all({ prefix: scope })));
  }

  /** Commits the queued writes, then closes the connection. */
  close(): void {
    try {
      this.#batcher.flush();
    } finally {
      this.#db.close();
    }
  }

  #read<T>(scope: string, query: () => T): T {
    this.#batcher.flush();
    try {
      return query();
    } catch (error) {
      throw databaseError(`${this.filename}#${scope}`, "Cannot read the state database", error);
    }
  }
}
