/**
 * A state store keeping every record of every application, stage and scope in
 * one SQLite database file, shared safely by several processes.
 *
 * @module
 */
import path from "node:path";
import { StateStoreError } from "../../core/errors.js";
import { assertValidName, type NameKind } from "../../core/names.js";
import { assertWritableState, putEntry, readStoredState, stateJson } from "../state-record.js";
import type { HistoryItem, HistoryListing, StageMeta, State, StateStore, StateStoreScope } from "../state-store.js";
import { assertHistoryRun, historyEntryText, notAStageHistory, parseHistoryEntry } from "../history-items.js";
import type { LockInfo, LockRequest, StageLock, StageLocking } from "../stage-lock.js";
import { acquireDatabase, releaseDatabase } from "./database-registry.js";
import { notAStageStore, parseStageMeta, stageMetaText } from "../stage-meta.js";
import { corruptRow, recordLocation, stageMetaLocation } from "./database-errors.js";
import { acquireStageLock } from "./sqlite-stage-lock.js";
import type { StateDatabase } from "./state-database.js";

/** Options of {@link SQLiteStateStore}. */
export interface SQLiteStateStoreOptions {
  /**
   * The database file, resolved against the working directory when the store
   * is made. Created (mode 0600, missing directories 0700) on first use.
   * @default ".alchemy/state.sqlite"
   */
  filename?: string;
}

/**
 * A {@link StateStore} keeping records in a SQLite database: one row per
 * record, keyed by scope path and id, holding the record as JSON.
 *
 * - Durable: the database runs in WAL mode with `synchronous = FULL`; a
 *   `set` or `delete` resolves once its transaction is fsynced.
 * - Fast: writes requested in the same turn of the event loop share one
 *   transaction (group commit), so 10,000 concurrent `set` calls cost one fsync.
 * - Shared: all stores of one file in a process share one connection
 *   (`init` opens or joins it, `deinit` lets go; the last closes it), and
 *   several processes can use the file at once (they wait up to 5 s for each
 *   other's write lock).
 * - Reads see every write this process has requested, and every write another
 *   process has had acknowledged.
 * - Locking: the store of a stage scope (`chain` = [app, stage]) offers
 *   {@link StageLocking}; the lock is a row of the `stage_locks` table, taken
 *   atomically, and while it is held every write of this process to the stage
 *   is checked against it inside the write's own transaction.
 * - Stage metadata: the store of a stage scope keeps it in a row of the
 *   `stage_meta` table, written by the same group commit as the records and
 *   fenced the same way.
 *
 * A store of the application scope (`chain` shorter than 2) only reads: its
 * `listScopes` names the stages.
 *
 * @example
 * import { SQLiteStateStore } from "alchemy/state/sqlite";
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new SQLiteStateStore(scope, { filename: ".alchemy/state.sqlite" }),
 * });
 */
export class SQLiteStateStore implements StateStore, StageLocking {
  /** Absolute path of the database file. */
  readonly filename: string;
  readonly #chain: readonly string[];
  /** Scope path as stored in the `scope` column: `app/stage/nested...`. */
  readonly #scope: string;
  #database: StateDatabase | undefined;

  /** @throws ScopeError when a segment of `scope.chain` is not a valid name. */
  constructor(scope: StateStoreScope, options: SQLiteStateStoreOptions = {}) {
    const chain = [...scope.chain];
    const kinds: NameKind[] = ["application", "stage"];
    chain.forEach((name, i) => assertValidName(name, kinds[i] ?? "scope", chain.slice(0, i).join("/") || "/"));
    this.#chain = chain;
    this.#scope = chain.join("/");
    this.filename = path.resolve(options.filename ?? path.join(".alchemy", "state.sqlite"));
  }

  /** Opens the database (creating and migrating it if needed), or joins this process's connection to it. */
  async init(): Promise<void> {
    this.#open();
  }

  /** Lets go of the connection; the last store of the file commits what is queued and closes it. */
  async deinit(): Promise<void> {
    const database = this.#database;
    this.#database = undefined;
    if (database !== undefined) releaseDatabase(database);
  }

  /**
   * Takes the stage's lock (a row of `stage_locks`; see stage-lock-table.ts).
   * Call it on the stage scope's store before reading; from then on every
   * write of this process to any scope of the stage commits only while the
   * lock is still ours, and is otherwise rejected with a `LockLostError`.
   *
   * @throws StageLockedError naming the holder when the stage stays locked for `timeoutMs`.
   * @throws StateStoreError when this is not the store of a stage scope.
   */
  async lock(request: LockRequest): Promise<StageLock> {
    this.#stageLevel("lock");
    return acquireStageLock(this.filename, this.#scope, request);
  }

  /** The stage's lock, if any (stale or not). */
  async lockInfo(): Promise<LockInfo | undefined> {
    const [app, stage] = this.#stageLevel("read the lock of");
    return this.#open().locks.read(app, stage);
  }

  /** Frees the stage if its lock's id is `lockId`; resolves whether it did. */
  async forceUnlock(lockId: string): Promise<boolean> {
    const [app, stage] = this.#stageLevel("unlock");
    return this.#open().locks.clear(app, stage, lockId);
  }

  async get(id: string): Promise<State | undefined> {
    this.#checkId(id);
    const body = this.#open().body(this.#scope, id);
    return body === undefined ? undefined : this.#parse(id, body);
  }

  async getBatch(ids: string[]): Promise<Record<string, State>> {
    ids.forEach((id) => this.#checkId(id));
    const database = this.#open();
    const found: Record<string, State> = {};
    for (const id of ids) {
      const body = database.body(this.#scope, id);
      if (body !== undefined) putEntry(found, id, this.#parse(id, body));
    }
    return found;
  }

  async list(): Promise<string[]> {
    return this.#open().ids(this.#scope);
  }

  async listScopes(): Promise<string[]> {
    return this.#open().childScopes(this.#scope);
  }

  async all(): Promise<Record<string, State>> {
    const found: Record<string, State> = {};
    for (const [id, body] of this.#open().rows(this.#scope)) putEntry(found, id, this.#parse(id, body));
    return found;
  }

  async count(): Promise<number> {
    return this.#open().count(this.#scope);
  }

  /** When a record of this scope was last written: the newest commit time among them; `undefined` when it has none. */
  async updatedAt(): Promise<Date | undefined> {
    const newest = this.#open().newestUpdate(this.#scope);
    return newest === undefined ? undefined : new Date(newest);
  }

  /** The stage's metadata (its `stage_meta` row), or `undefined` when none was written. */
  async getStageMeta(): Promise<StageMeta | undefined> {
    const [app, stage] = this.#metaStage("read the stage metadata of");
    const body = this.#open().stageMeta(app, stage);
    if (body === undefined) return undefined;
    const fix =
      `Restore the database from a backup, or remove the row (alchemy then forgets what it kept for the stage, such as the check of its secrets' key): ` +
      `sqlite3 ${JSON.stringify(this.filename)} "DELETE FROM stage_meta WHERE app = '${app}' AND stage = '${stage}'"`;
    return parseStageMeta(body, stageMetaLocation(this.filename, app, stage), fix);
  }

  /**
   * Replaces the stage's metadata, in the group commit of the stage's writes;
   * durable once resolved. While this process holds the stage's lock, it
   * commits only if the lock is still ours, else rejects with `LockLostError`.
   */
  async setStageMeta(meta: StageMeta): Promise<void> {
    const [app, stage] = this.#metaStage("write the stage metadata of");
    const body = stageMetaText(meta, stageMetaLocation(this.filename, app, stage));
    await this.#open().writeStageMeta(app, stage, body);
  }

  /**
   * Removes the stage's metadata (its `stage_meta` row; a no-op when there is
   * none), in the group commit of the stage's writes and fenced like
   * {@link setStageMeta}; durable once resolved.
   */
  async deleteStageMeta(): Promise<void> {
    const [app, stage] = this.#metaStage("delete the stage metadata of");
    await this.#open().writeStageMeta(app, stage, null);
  }

  /** Writes an entry of the stage's history (a `stage_history` row), in the group commit and fenced like {@link setStageMeta}. */
  async appendHistory(item: HistoryItem): Promise<void> {
    const [app, stage] = this.#historyStage("append to the history of");
    const entry = historyEntryText(item, this.#historyLocation());
    await this.#open().writeHistory(app, stage, item.run, { entry, snapshot: item.snapshot });
  }

  /** The stage's history entries, newest first. */
  async listHistory(limit?: number): Promise<HistoryListing[]> {
    const [app, stage] = this.#historyStage("list the history of");
    return this.#open().history(app, stage, limit === undefined ? -1 : Math.max(0, limit)).map(([run, text]) => parseHistoryEntry(run, text, this.#historyLocation()));
  }

  /** The snapshot kept with entry `run`. */
  async getHistorySnapshot(run: string): Promise<Uint8Array | undefined> {
    const [app, stage] = this.#historyStage("read the history of");
    assertHistoryRun(run, this.#historyLocation());
    const bytes = this.#open().historySnapshot(app, stage, run);
    return bytes === undefined ? undefined : new Uint8Array(bytes as Buffer);
  }

  /** Removes the entries named, in the group commit and fenced like {@link setStageMeta}. */
  async deleteHistory(runs: string[]): Promise<void> {
    const [app, stage] = this.#historyStage("delete from the history of");
    runs.forEach((run) => assertHistoryRun(run, this.#historyLocation()));
    const db = this.#open();
    await Promise.all(runs.map((run) => db.writeHistory(app, stage, run, null)));
  }

  #historyStage(doing: string): [string, string] {
    if (this.#chain.length !== 2) throw notAStageHistory(doing, this.#chain, this.#historyLocation());
    return [this.#chain[0]!, this.#chain[1]!];
  }

  #historyLocation(): string {
    return `${this.filename}#history/${this.#scope}`;
  }

  async set(id: string, state: State): Promise<void> {
    this.#checkId(id);
    const location = this.#writable(id);
    assertWritableState(state, id, location, `${this.#scope}/${id}`);
    const body = stateJson(state, location);
    await this.#open().write({ scope: this.#scope, id, body });
  }

  async delete(id: string): Promise<void> {
    this.#checkId(id);
    this.#writable(id);
    await this.#open().write({ scope: this.#scope, id, body: null });
  }

  #checkId(id: string): void {
    assertValidName(id, "resource id", this.#scope || "/");
  }

  /** The location of record `id`, after checking that this scope can hold records. */
  #writable(id: string): string {
    const location = recordLocation(this.filename, this.#scope, id);
    if (this.#chain.length < 2) {
      throw new StateStoreError(
        `Cannot write record "${id}" in "${this.#scope || "/"}": records live in a stage or a scope below it. ` +
          `Create the store for a scope whose chain has at least an application and a stage, e.g. ["my-app", "dev"].`,
        location,
      );
    }
    return location;
  }

  /** `[app, stage]`, after checking that this is the store of a stage scope. */
  #stageLevel(doing: string): [string, string] {
    if (this.#chain.length !== 2) {
      throw new StateStoreError(
        `Cannot ${doing} "${this.#scope || "/"}": stage locks belong to the store of a stage scope (app/stage). ` +
          `Call it on the store created for the chain [app, stage], e.g. ["my-app", "dev"].`,
        `${this.filename}#${this.#scope}`,
      );
    }
    return [this.#chain[0]!, this.#chain[1]!];
  }

  /** `[app, stage]`, after checking that this is the store of a stage scope. */
  #metaStage(doing: string): [string, string] {
    if (this.#chain.length !== 2) throw notAStageStore(doing, this.#chain, `${this.filename}#${this.#scope}`);
    return [this.#chain[0]!, this.#chain[1]!];
  }

  #parse(id: string, body: unknown): State {
    if (typeof body !== "string") throw corruptRow(this.filename, this.#scope, id, `holds ${typeof body} data, not JSON text`);
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (error) {
      const what = body.length === 0 ? "is empty" : `is not valid JSON (${(error as Error).message})`;
      throw corruptRow(this.filename, this.#scope, id, what, error);
    }
    const state = readStoredState(value, id, `${this.#scope}/${id}`);
    if (typeof state === "string") throw corruptRow(this.filename, this.#scope, id, `is not a state record: it ${state}`);
    return state;
  }

  #open(): StateDatabase {
    return (this.#database ??= acquireDatabase(this.filename));
  }
}
