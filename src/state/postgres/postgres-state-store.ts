/**
 * A state store in PostgreSQL: one row per resource record, for every
 * application, stage and scope, in `<schema>.records`, and one lock row per
 * stage in `<schema>.stage_locks`, safe for many processes and machines at once.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { assertValidName, type NameKind } from "../../core/names.js";
import type { LockInfo, LockRequest, StageLock, StageLocking } from "../stage-lock.js";
import { assertWritableState, putEntry, readStoredState, stateJson } from "../state-record.js";
import type { HistoryItem, HistoryListing, StageMeta, State, StateStore, StateStoreScope } from "../state-store.js";
import { assertHistoryRun, historyEntryText, notAStageHistory, parseHistoryEntry } from "../history-items.js";
import { notAStageStore, parseStageMeta, stageMetaText } from "../stage-meta.js";
import { resolveTarget, type DatabaseTarget } from "./connection-string.js";
import { acquireDatabase, releaseDatabase } from "./database-registry.js";
import { acquireStageLock } from "./postgres-stage-lock.js";
import type { StateDatabase } from "./state-database.js";

/** Options of {@link PostgresStateStore}. */
export interface PostgresStateStoreOptions {
  /**
   * Where the database is: a URL such as `postgres://user:password@host:5432/db`
   * (`postgresql://` too; query parameters as the `pg` driver takes them, e.g. `?sslmode=require`).
   * A `?schema=name` parameter picks the schema, as in a `--state` store URL.
   * @default process.env.ALCHEMY_STATE_DATABASE_URL
   * @example "postgres://deployer:secret@db.internal:5432/infra?schema=reports"
   */
  connectionString?: string;
  /**
   * The PostgreSQL schema holding the state tables; created on first use.
   * Letters, digits and `_`. A connection string whose `?schema=` names
   * another schema is refused.
   * @default the connection string's `?schema=`, else "alchemy"
   */
  schema?: string;
}

/**
 * A {@link StateStore} keeping each record as a row of `<schema>.records`
 * keyed by (scope path, id), with the record's JSON text exactly as written.
 *
 * The schema is created and migrated on first use (see `schema-migrations.ts`).
 * Every store of a process with the same connection string and schema shares
 * one connection pool, closed when the last of them `deinit`s. Writes to one
 * stage made together (in one turn of the event loop, or while a batch of
 * the stage is being committed) are group-committed as one atomic statement;
 * each `set` or `delete` resolves once its batch is committed, and a failed
 * batch rejects every call in it. Reads first wait for the writes this
 * process has already made. Writers in other processes or on other machines
 * lose nothing: each batch is atomic, and the last committed write of a
 * record wins.
 *
 * A store of the application scope (`chain` shorter than 2) only reads: its
 * `listScopes` names the stages.
 *
 * The store of a stage scope (`chain` = [app, stage]) locks the stage
 * ({@link StageLocking}): leases are judged by the database's clock, and once
 * a process holds the lock, every write it makes to any scope of the stage
 * commits only while the lock is still its own, checked in the write's
 * transaction (see `state-database.ts` and `stage-lock-table.ts`).
 *
 * The store of a stage scope also keeps the stage's metadata, a row of
 * `<schema>.stage_meta`, written in the stage's group commit and fenced like
 * its records.
 *
 * @example
 * import { PostgresStateStore } from "alchemy/state/postgres";
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new PostgresStateStore(scope, { connectionString: process.env.DATABASE_URL }),
 * });
 */
export class PostgresStateStore implements StateStore, StageLocking {
  readonly #target: DatabaseTarget;
  readonly #chain: readonly string[];
  /** The scope column of this scope's rows: the chain joined with "/". */
  readonly #scope: string;
  readonly #table: string;
  #database: StateDatabase | undefined;

  /**
   * @throws ScopeError when a segment of `scope.chain` is not a valid name.
   * @throws StateStoreError when no connection string is given (option or
   * `ALCHEMY_STATE_DATABASE_URL`), when it or `schema` is malformed, or when
   * `schema` and the connection string's `?schema=` disagree.
   */
  constructor(scope: StateStoreScope, options: PostgresStateStoreOptions = {}) {
    const chain = [...scope.chain];
    const kinds: NameKind[] = ["application", "stage"];
    chain.forEach((name, i) => assertValidName(name, kinds[i] ?? "scope", chain.slice(0, i).join("/") || "/"));
    this.#chain = chain;
    this.#scope = chain.join("/");
    this.#target = resolveTarget(options, process.env);
    this.#table = `${this.#target.server}#${this.#target.schema}.records`;
  }

  /** Connects, and creates or migrates the schema if this process has not yet. */
  async init(): Promise<void> {
    await this.#db().ready();
  }

  /** Waits for this process's writes in flight; the last store of the pool closes it. */
  async deinit(): Promise<void> {
    const database = this.#database;
    this.#database = undefined;
    if (database === undefined) return;
    await database.settled(); // also when another store keeps the pool open
    await releaseDatabase(database);
  }

  /**
   * Takes the stage's lock (a row of `<schema>.stage_locks`). Call it on the
   * stage scope's store before reading; from then on every write of this
   * process to any scope of the stage commits only while the lock is ours,
   * and is otherwise rejected with a `LockLostError`.
   *
   * @throws StageLockedError when another run holds a live lock for longer than `request.timeoutMs`.
   * @throws StateStoreError when this is not a stage scope's store.
   */
  async lock(request: LockRequest): Promise<StageLock> {
    return acquireStageLock(this.#target, this.#stageLevel("lock"), request);
  }

  /** The stage's lock, if any (stale or not); its times are the database's. */
  async lockInfo(): Promise<LockInfo | undefined> {
    const [app, stage] = this.#stageLevel("read the lock of").split("/") as [string, string];
    return this.#db().locks.read(app, stage);
  }

  /** Removes the stage's lock if its id is `lockId`; resolves whether it did. */
  async forceUnlock(lockId: string): Promise<boolean> {
    const [app, stage] = this.#stageLevel("unlock").split("/") as [string, string];
    return this.#db().locks.clear(app, stage, lockId);
  }

  async get(id: string): Promise<State | undefined> {
    this.#checkId(id);
    const body = await this.#db().readBody(this.#scope, id, this.#where(id));
    return body === undefined ? undefined : this.#parse(body, id);
  }

  async getBatch(ids: string[]): Promise<Record<string, State>> {
    ids.forEach((id) => this.#checkId(id));
    const found: Record<string, State> = {};
    if (ids.length === 0) return found;
    const rows = await this.#read<{ id: string; body: string }>("getMany", [this.#scope, ids], "read records", this.#where());
    const byId = new Map(rows.map((row) => [row.id, row.body]));
    for (const id of ids) {
      const body = byId.get(id);
      if (body !== undefined) putEntry(found, id, this.#parse(body, id));
    }
    return found;
  }

  async list(): Promise<string[]> {
    const rows = await this.#read<{ id: string }>("list", [this.#scope], "list records", this.#where());
    return rows.map((row) => row.id);
  }

  async listScopes(): Promise<string[]> {
    const rows =
      this.#chain.length === 0
        ? await this.#read<{ name: string }>("rootScopes", [], "list applications", this.#table)
        : await this.#read<{ name: string }>("childScopes", [`${this.#scope}/`, `${this.#scope}0`], "list child scopes", this.#where());
    return rows.map((row) => row.name);
  }

  async all(): Promise<Record<string, State>> {
    const rows = await this.#read<{ id: string; body: string }>("all", [this.#scope], "read records", this.#where());
    const found: Record<string, State> = {};
    for (const row of rows) putEntry(found, row.id, this.#parse(row.body, row.id));
    return found;
  }

  async count(): Promise<number> {
    const rows = await this.#read<{ count: number }>("count", [this.#scope], "count records", this.#where());
    return rows[0]!.count;
  }

  /** The newest `updated_at` among this scope's records; `undefined` when it holds none. */
  async updatedAt(): Promise<Date | undefined> {
    const rows = await this.#read<{ at: Date | null }>("updatedAt", [this.#scope], "read update times", this.#where());
    return rows[0]?.at ?? undefined;
  }

  /** The stage's metadata (its `stage_meta` row), or `undefined` when none was written. */
  async getStageMeta(): Promise<StageMeta | undefined> {
    const [app, stage] = this.#metaStage("read the stage metadata of");
    const location = this.#metaWhere(app, stage);
    const body = await this.#db().readStageMeta(app, stage, location);
    if (body === undefined) return undefined;
    const fix =
      `Restore the row from a backup, or remove it (alchemy then forgets what it kept for the stage, such as the check of its secrets' key) with ` +
      `DELETE FROM "${this.#target.schema}".stage_meta WHERE app = '${app}' AND stage = '${stage}'.`;
    return parseStageMeta(body, location, fix);
  }

  /**
   * Replaces the stage's metadata, in the stage's group commit; durable once
   * resolved. While this process holds the stage's lock, it commits only if
   * the lock row, read `FOR SHARE` in its transaction, is still ours, and
   * otherwise rejects with `LockLostError`.
   */
  async setStageMeta(meta: StageMeta): Promise<void> {
    const [app, stage] = this.#metaStage("write the stage metadata of");
    const location = this.#metaWhere(app, stage);
    const body = stageMetaText(meta, location);
    await this.#db().writeStageMeta(app, stage, body, location);
  }

  /**
   * Removes the stage's metadata (its `stage_meta` row; a no-op when there is
   * none), in the stage's group commit and fenced like {@link setStageMeta};
   * durable once resolved.
   */
  async deleteStageMeta(): Promise<void> {
    const [app, stage] = this.#metaStage("delete the stage metadata of");
    await this.#db().writeStageMeta(app, stage, null, this.#metaWhere(app, stage));
  }

  /**
   * Writes an entry of the stage's history (a `stage_history` row), after the
   * writes submitted before it, in a transaction fenced like {@link setStageMeta}.
   */
  async appendHistory(item: HistoryItem): Promise<void> {
    const [app, stage] = this.#historyStage("append to the history of");
    const location = this.#historyWhere();
    const entry = historyEntryText(item, location);
    await this.#db().writeHistory(app, stage, { run: item.run, entry, snapshot: item.snapshot }, location);
  }

  /** The stage's history entries, newest first. */
  async listHistory(limit?: number): Promise<HistoryListing[]> {
    const [app, stage] = this.#historyStage("list the history of");
    const location = this.#historyWhere();
    const db = this.#db();
    const rows = await db.query<{ run: string; entry: string }>(db.historySql.list, [app, stage, limit === undefined ? null : Math.max(0, limit)], `list the history of stage "${stage}"`, location);
    return rows.map((row) => parseHistoryEntry(row.run, row.entry, location));
  }

  /** The snapshot kept with entry `run`. */
  async getHistorySnapshot(run: string): Promise<Uint8Array | undefined> {
    const [app, stage] = this.#historyStage("read the history of");
    const location = this.#historyWhere();
    assertHistoryRun(run, location);
    const db = this.#db();
    const rows = await db.query<{ snapshot: Buffer }>(db.historySql.snapshot, [app, stage, run], `read the history of stage "${stage}"`, location);
    return rows[0] === undefined ? undefined : new Uint8Array(rows[0].snapshot);
  }

  /** Removes the entries named, in a transaction fenced like {@link setStageMeta}. */
  async deleteHistory(runs: string[]): Promise<void> {
    const [app, stage] = this.#historyStage("delete from the history of");
    const location = this.#historyWhere();
    runs.forEach((run) => assertHistoryRun(run, location));
    if (runs.length > 0) await this.#db().writeHistory(app, stage, { remove: runs }, location);
  }

  #historyStage(doing: string): [string, string] {
    if (this.#chain.length !== 2) throw notAStageHistory(doing, this.#chain, this.#historyWhere());
    return [this.#chain[0]!, this.#chain[1]!];
  }

  #historyWhere(): string {
    return `${this.#target.server}#${this.#target.schema}.stage_history scope=${this.#scope || "/"}`;
  }

  async set(id: string, state: State): Promise<void> {
    this.#checkId(id);
    const location = this.#where(id);
    assertWritableState(state, id, location, `${this.#scope}/${id}`);
    const body = stateJson(state, location);
    await this.#writer(id).write({ scope: this.#scope, id, body }, location);
  }

  async delete(id: string): Promise<void> {
    this.#checkId(id);
    await this.#writer(id).write({ scope: this.#scope, id, body: null }, this.#where(id));
  }

  /** This store's `app/stage`, when it is a stage scope's store (where stage locks belong). */
  #stageLevel(doing: string): string {
    if (this.#chain.length !== 2) {
      throw new StateStoreError(
        `Cannot ${doing} "${this.#scope || "/"}": stage locks belong to the store of a stage scope (app/stage). ` +
          `Call it on the store made for the stage's chain, e.g. { chain: ["${this.#chain[0] ?? "my-app"}", "${this.#chain[1] ?? "dev"}"] }.`,
        `${this.#target.server}#${this.#target.schema}.stage_locks scope=${this.#scope || "/"}`,
      );
    }
    return this.#scope;
  }

  /** `[app, stage]`, after checking that this is the store of a stage scope. */
  #metaStage(doing: string): [string, string] {
    if (this.#chain.length !== 2) {
      throw notAStageStore(doing, this.#chain, `${this.#target.server}#${this.#target.schema}.stage_meta scope=${this.#scope || "/"}`);
    }
    return [this.#chain[0]!, this.#chain[1]!];
  }

  /** `postgres://host/db#schema.stage_meta app=my-app stage=dev`: where a stage's metadata is, for messages. */
  #metaWhere(app: string, stage: string): string {
    return `${this.#target.server}#${this.#target.schema}.stage_meta app=${app} stage=${stage}`;
  }

  #checkId(id: string): void {
    assertValidName(id, "resource id", this.#scope || "/");
  }

  /** `postgres://host/db#schema.records scope=app/dev id=api`: where a row is, for messages. */
  #where(id?: string): string {
    return `${this.#table} scope=${this.#scope || "/"}${id === undefined ? "" : ` id=${id}`}`;
  }

  #db(): StateDatabase {
    return (this.#database ??= acquireDatabase(this.#target));
  }

  #read<Row extends object>(query: keyof StateDatabase["sql"], params: unknown[], what: string, location: string): Promise<Row[]> {
    const database = this.#db();
    return database.query<Row & Record<string, unknown>>(database.sql[query], params, what, location);
  }

  /** The database that takes a write of `id`; only a stage or a scope below it holds records. */
  #writer(id: string): StateDatabase {
    if (this.#chain.length < 2) {
      throw new StateStoreError(
        `Cannot write record "${id}" in "${this.#scope || "/"}": records live in a stage or a scope below it. ` +
          `Create the store for a scope whose chain has at least an application and a stage, e.g. ["my-app", "dev"].`,
        this.#where(id),
      );
    }
    return this.#db();
  }

  #parse(body: string, id: string): State {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (error) {
      throw this.#corrupt(id, `is not valid JSON (${(error as Error).message})`, error);
    }
    const state = readStoredState(value, id, `${this.#scope}/${id}`);
    if (typeof state === "string") throw this.#corrupt(id, `is not a state record: it ${state}`);
    return state;
  }

  #corrupt(id: string, what: string, cause?: unknown): StateStoreError {
    const fqn = `${this.#scope}/${id}`;
    return new StateStoreError(
      `The record "${fqn}" in ${this.#table} (scope "${this.#scope}", id "${id}") ${what}. Nothing was changed. ` +
        `Restore the row from a backup, or remove it (the resource it describes is then no longer tracked) with ` +
        `DELETE FROM "${this.#target.schema}".records WHERE scope = '${this.#scope}' AND id = '${id.replace(/'/g, "''")}'.`,
      this.#where(id),
      cause === undefined ? undefined : { cause },
    );
  }
}
