/**
 * One open state database: the records of every application, stage and scope
 * kept in one SQLite file, read with prepared statements and written by group
 * commit.
 *
 * @module
 */
import type { Database, Statement } from "better-sqlite3";
import { LockLostError } from "../stage-lock.js";
import { databaseError, recordLocation, stageMetaLocation } from "./database-errors.js";
import { openStateDatabase } from "./open-database.js";
import { RECORDS_TABLE, STAGE_HISTORY_TABLE, STAGE_META_TABLE } from "./schema.js";
import { StageLockTable } from "./stage-lock-table.js";
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
   * (Stage lock fences are checked the same way, before this; see {@link StateDatabase.fence}.)
   */
  precondition?: (db: Database) => Error | undefined;
}

/**
 * A write of a stage's metadata, committed with the record writes of its
 * batch and fenced like them (its `scope` is the stage's path).
 */
export interface StageMetaWrite {
  kind: "stageMeta";
  /** `app/stage` */
  scope: string;
  app: string;
  stage: string;
  /** The metadata as JSON text, or `null` to remove it. */
  body: string | null;
}

/**
 * A write of one entry of a stage's history, committed with the record
 * writes of its batch and fenced like them.
 */
export interface HistoryWrite {
  kind: "history";
  /** `app/stage` */
  scope: string;
  app: string;
  stage: string;
  run: string;
  /** The entry's JSON text and snapshot, or `null` to remove the entry. */
  body: { entry: string; snapshot: Uint8Array } | null;
}

/** What the group commit takes: record, stage metadata and history writes, in order. */
type QueuedWrite = RecordWrite | StageMetaWrite | HistoryWrite;

function isHistoryWrite(write: QueuedWrite): write is HistoryWrite {
  return (write as Partial<HistoryWrite>).kind === "history";
}

function isStageMetaWrite(write: QueuedWrite): write is StageMetaWrite {
  return (write as Partial<StageMetaWrite>).kind === "stageMeta";
}

/**
 * The state database in `filename`, open in this process. Get one through
 * `acquireDatabase` so that every store of the file shares it.
 *
 * Every read first commits the writes already requested in this process, so
 * a reader sees them; other processes see a write once its promise resolved.
 *
 * Stage locks live in {@link StateDatabase.locks}; a stage this process has
 * locked is fenced ({@link StateDatabase.fence}): each write to any scope of
 * it is checked, inside its write transaction, against the stage's lock row.
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
  /** The stage locks of this database. */
  readonly locks: StageLockTable;
  readonly #db: Database;
  /** Stage path (`app/stage`) -> id of the lock this process took on it. */
  readonly #fences = new Map<string, string>();
  readonly #batcher: WriteBatcher<QueuedWrite>;
  readonly #apply: (writes: readonly QueuedWrite[], now: number, outcomes: (Error | undefined)[]) => void;
  readonly #select: {
    body: Statement<[string, string], string>;
    ids: Statement<[string], string>;
    rows: Statement<[string], [string, unknown]>;
    count: Statement<[string], number>;
    newest: Statement<[string], number | null>;
    stages: Statement<[], string>;
    children: Statement<[{ prefix: string }], string>;
    stageMeta: Statement<[string, string], unknown>;
    history: Statement<[string, string, number], [string, unknown]>;
    snapshot: Statement<[string, string, string], unknown>;
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
      const putMeta = db.prepare<[string, string, string, number]>(
        `INSERT INTO ${STAGE_META_TABLE} (app, stage, body, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (app, stage) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
      );
      const removeMeta = db.prepare<[string, string]>(`DELETE FROM ${STAGE_META_TABLE} WHERE app = ? AND stage = ?`);
      const putHistory = db.prepare<[string, string, string, string, Uint8Array, number]>(
        `INSERT INTO ${STAGE_HISTORY_TABLE} (app, stage, run, entry, snapshot, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (app, stage, run) DO UPDATE SET entry = excluded.entry, snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
      );
      const removeHistory = db.prepare<[string, string, string]>(`DELETE FROM ${STAGE_HISTORY_TABLE} WHERE app = ? AND stage = ? AND run = ?`);
      this.locks = new StageLockTable(db, filename);
      this.#apply = db.transaction((writes: readonly QueuedWrite[], now: number, outcomes: (Error | undefined)[]) => {
        const fenceChecks = new Map<string, LockLostError | undefined>();
        for (const write of writes) {
          if (isHistoryWrite(write)) {
            const refused = this.#checkFence(write.scope, fenceChecks);
            outcomes.push(refused);
            if (refused !== undefined) continue;
            if (write.body === null) removeHistory.run(write.app, write.stage, write.run);
            else putHistory.run(write.app, write.stage, write.run, write.body.entry, Buffer.from(write.body.snapshot), now);
            continue;
          }
          if (isStageMetaWrite(write)) {
            const refused = this.#checkFence(write.scope, fenceChecks);
            outcomes.push(refused);
            if (refused !== undefined) continue;
            if (write.body === null) removeMeta.run(write.app, write.stage);
            else putMeta.run(write.app, write.stage, write.body, now);
            continue;
          }
          const refused = this.#checkFence(write.scope, fenceChecks) ?? write.precondition?.(db);
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
        stageMeta: db.prepare<[string, string], unknown>(`SELECT body FROM ${STAGE_META_TABLE} WHERE app = ? AND stage = ?`).pluck(),
        history: db
          .prepare<[string, string, number], [string, unknown]>(`SELECT run, entry FROM ${STAGE_HISTORY_TABLE} WHERE app = ? AND stage = ? ORDER BY run DESC LIMIT ?`)
          .raw(),
        snapshot: db.prepare<[string, string, string], unknown>(`SELECT snapshot FROM ${STAGE_HISTORY_TABLE} WHERE app = ? AND stage = ? AND run = ?`).pluck(),
      };
    } catch (error) {
      db.close();
      throw databaseError(filename, "Cannot prepare the state database's statements", error);
    }
    this.#batcher = new WriteBatcher<QueuedWrite>(
      (writes) => {
        const outcomes: (Error | undefined)[] = [];
        this.#apply(writes, Date.now(), outcomes);
        return outcomes;
      },
      (write, error, size) =>
        databaseError(
          isHistoryWrite(write)
            ? `${filename}#history/${write.scope}/${write.run}`
            : isStageMetaWrite(write) ? stageMetaLocation(filename, write.app, write.stage) : recordLocation(filename, write.scope, write.id),
          `Cannot ${write.body === null ? "delete" : "write"} ${isHistoryWrite(write) ? "the history entry" : isStageMetaWrite(write) ? "the stage metadata" : "the record"}: ` +
            `the transaction of ${size} write(s) holding it failed, and none of them was committed`,
          error,
        ),
    );
  }

  /** Transactions committed (or failed) so far by this connection's group commit. */
  get batches(): number {
    return this.#batcher.batches;
  }

  /**
   * Fences the stage `stagePath` (`app/stage`) with lock `lockId`: from now on
   * a write to any scope of the stage commits only if, inside its
   * transaction, the stage's lock row still has that id; otherwise that write
   * alone rejects with a {@link LockLostError}. Replaces an earlier fence of the stage.
   */
  fence(stagePath: string, lockId: string): void {
    this.#fences.set(stagePath, lockId);
  }

  /** Commits the queued writes (still fenced), then removes the fence of `stagePath` if it is `lockId`'s. */
  unfence(stagePath: string, lockId: string): void {
    this.#batcher.flush();
    if (this.#fences.get(stagePath) === lockId) this.#fences.delete(stagePath);
  }

  /** Queues a write; resolves once it is committed (durable), rejects if its transaction failed. */
  write(write: RecordWrite): Promise<void> {
    return this.#batcher.write(write);
  }

  /**
   * Queues a write of the metadata of stage `app/stage` (`body` `null`
   * removes it); resolves once committed. Fenced like a record write of the
   * stage: while this process holds the stage's lock, it commits only if the
   * lock row, read in its transaction, is still ours, and otherwise rejects
   * with a {@link LockLostError}.
   */
  writeStageMeta(app: string, stage: string, body: string | null): Promise<void> {
    return this.#batcher.write({ kind: "stageMeta", scope: `${app}/${stage}`, app, stage, body });
  }

  /**
   * Queues a write of entry `run` of the history of stage `app/stage`
   * (`body` `null` removes it); resolves once committed, fenced like {@link writeStageMeta}.
   */
  writeHistory(app: string, stage: string, run: string, body: HistoryWrite["body"]): Promise<void> {
    return this.#batcher.write({ kind: "history", scope: `${app}/${stage}`, app, stage, run, body });
  }

  /** `[run, entry text]` of the newest `limit` entries of stage `app/stage` (all when `limit` is -1), newest first. */
  history(app: string, stage: string, limit: number): [string, unknown][] {
    return this.#read(`${app}/${stage}`, () => this.#select.history.all(app, stage, limit));
  }

  /** The snapshot of entry `run` of stage `app/stage`, or `undefined`. */
  historySnapshot(app: string, stage: string, run: string): unknown {
    return this.#read(`${app}/${stage}`, () => this.#select.snapshot.get(app, stage, run));
  }

  /** The stored metadata body of stage `app/stage` (a string unless someone else wrote the row), or `undefined`. */
  stageMeta(app: string, stage: string): unknown {
    return this.#read(`${app}/${stage}`, () => this.#select.stageMeta.get(app, stage), stageMetaLocation(this.filename, app, stage));
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

  /** The fence error for a write to `scope`, checked once per stage per transaction (`checked` caches it). */
  #checkFence(scope: string, checked: Map<string, LockLostError | undefined>): LockLostError | undefined {
    if (this.#fences.size === 0) return undefined;
    const [app, stage] = scope.split("/", 2);
    if (app === undefined || stage === undefined) return undefined;
    const stagePath = `${app}/${stage}`;
    const lockId = this.#fences.get(stagePath);
    if (lockId === undefined) return undefined;
    if (!checked.has(stagePath)) {
      const current = this.locks.read(app, stage);
      checked.set(stagePath, current?.id === lockId ? undefined : new LockLostError(stagePath, lockId, current));
    }
    return checked.get(stagePath);
  }

  #read<T>(scope: string, query: () => T, location = `${this.filename}#${scope}`): T {
    this.#batcher.flush();
    try {
      return query();
    } catch (error) {
      throw databaseError(location, "Cannot read the state database", error);
    }
  }
}
