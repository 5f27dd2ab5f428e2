/**
 * The default state store: one pretty-printed JSON file per resource under
 * `.alchemy/`, made durable by a per-stage write-ahead journal.
 *
 * ```
 * .alchemy/my-app/prod/~journal          write-ahead journal of the stage
 * .alchemy/my-app/prod/~stage.json       metadata of the stage (see stage-meta-file.ts)
 * .alchemy/my-app/prod/api.json          record "api" of the stage
 * .alchemy/my-app/prod/backend/db.json   record "db" of nested scope "backend"
 * ```
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { StateStoreError, toError } from "../../core/errors.js";
import { assertValidName, type NameKind } from "../../core/names.js";
import type { StageMeta, State, StateStore, StateStoreScope } from "../state-store.js";
import type { LockInfo, LockRequest, StageLock, StageLocking } from "../stage-lock.js";
import { acquireLock, forceUnlock, readLock } from "./file-lock.js";
import { errorCode } from "./durable-files.js";
import type { StageJournal } from "./journal.js";
import { acquireJournal, materializeOpenJournals, recoverStagesBelow, releaseJournal } from "./journal-registry.js";
import { RECORD_SUFFIX, listChildScopes, listRecordIds, readAllRecords, readRecord, recordPathProblem, type ReadMode } from "./scope-dir.js";
import { assertWritableState, getEach, parseStateFile, putEntry } from "../state-record.js";
import { STAGE_META_NAME, readStageMeta, removeStageMeta, writeStageMeta } from "./stage-meta-file.js";
import { notAStageStore, stageMetaText } from "../stage-meta.js";

/** Options of {@link FileSystemStateStore}. */
export interface FileSystemStateStoreOptions {
  /**
   * Root directory of the state files.
   * @default path.resolve(".alchemy")
   */
  dir?: string;
  /**
   * Size of a stage's journal that triggers a checkpoint (the record files are
   * made durable and the journal emptied). Taken from the first store that
   * opens the stage in a process.
   * @default 8 MiB
   */
  checkpointBytes?: number;
}

const DEFAULT_CHECKPOINT_BYTES = 8 * 1024 * 1024;

/**
 * A {@link StateStore} keeping each record in `<dir>/<app>/<stage>/<scopes...>/<id>.json`
 * (mode 0600, directories 0700).
 *
 * A write resolves once it is durable: it is appended to the stage's journal
 * and fdatasynced together with every other write waiting at that moment, then
 * the record file is replaced atomically (temp file + rename), so readers,
 * including other processes, only ever see whole records. After a crash, the
 * first process that touches the stage replays the journal. Stores of one
 * stage in one process share the journal; `deinit` releases it, and the last
 * release makes the record files durable and empties the journal.
 *
 * A store of the application scope (`chain` shorter than 2) only reads: its
 * `listScopes` names the stages.
 *
 * @example
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new FileSystemStateStore(scope, { dir: ".alchemy" }),
 * });
 */
export class FileSystemStateStore implements StateStore, StageLocking {
  /** Absolute root directory of all state. */
  readonly dir: string;
  /** Absolute directory of this scope's records. */
  readonly scopeDir: string;
  /** Absolute directory of the stage, or `undefined` above the stage level. */
  readonly stageDir: string | undefined;
  readonly #chain: readonly string[];
  readonly #scopePath: string;
  readonly #checkpointBytes: number;
  #journal: StageJournal | undefined;
  /** Record paths already checked not to be taken by a directory. */
  readonly #freePaths = new Set<string>();

  /** @throws ScopeError when a segment of `scope.chain` is not a valid name. */
  constructor(scope: StateStoreScope, options: FileSystemStateStoreOptions = {}) {
    const chain = [...scope.chain];
    const kinds: NameKind[] = ["application", "stage"];
    chain.forEach((name, i) => assertValidName(name, kinds[i] ?? "scope", chain.slice(0, i).join("/") || "/"));
    this.#chain = chain;
    this.#scopePath = chain.join("/");
    this.#checkpointBytes = options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES;
    this.dir = path.resolve(options.dir ?? ".alchemy");
    this.scopeDir = path.join(this.dir, ...chain);
    this.stageDir = chain.length >= 2 ? path.join(this.dir, chain[0]!, chain[1]!) : undefined;
  }

  /**
   * Takes the stage's lock (`<stage dir>/~lock`; see file-lock.ts). Call it on
   * the stage scope's store before reading; from then on every journal commit
   * of the stage in this process first checks that the lock is still ours.
   */
  async lock(request: LockRequest): Promise<StageLock> {
    const stageDir = this.#stageLevel("lock");
    const lock = await acquireLock(stageDir, this.#scopePath, request);
    const journal = (this.#journal ??= acquireJournal(stageDir, { checkpointBytes: this.#checkpointBytes }));
    journal.fence = lock.check;
    return {
      ...lock,
      release: async () => {
        if (journal.fence === lock.check) journal.fence = undefined;
        await lock.release();
      },
    };
  }

  /** The stage's lock, if any. */
  async lockInfo(): Promise<LockInfo | undefined> {
    return readLock(this.#stageLevel("read the lock of"));
  }

  /** Removes the stage's lock if its id is `lockId`. */
  async forceUnlock(lockId: string): Promise<boolean> {
    return forceUnlock(this.#stageLevel("unlock"), lockId);
  }

  /**
   * The stage's metadata, from `<stage dir>/~stage.json`; `undefined` when
   * none was written. Call it on the stage scope's store.
   *
   * @throws StateStoreError naming the file when it is unreadable or not a JSON object.
   */
  async getStageMeta(): Promise<StageMeta | undefined> {
    return readStageMeta(this.#metaStageDir("read the stage metadata of"));
  }

  /**
   * Replaces the stage's metadata: `<stage dir>/~stage.json` is rewritten
   * atomically and is durable once this resolves (see stage-meta-file.ts).
   * While this process holds the stage's lock, the write is fenced like a
   * journal commit: it rejects with the `LockLostError` of a lock taken over.
   *
   * @throws StateStoreError when `meta` is not a plain JSON object, or this is not a stage scope's store.
   */
  async setStageMeta(meta: StageMeta): Promise<void> {
    const stageDir = this.#metaStageDir("write the stage metadata of");
    const text = stageMetaText(meta, path.join(stageDir, STAGE_META_NAME), 2) + "\n";
    await this.#ready();
    // Checked and written in one synchronous step, so no commit or lock change of this process lands between.
    const refused = this.#journal!.refusal();
    if (refused !== undefined) throw refused;
    writeStageMeta(stageDir, text);
  }

  /**
   * Removes the stage's metadata: `<stage dir>/~stage.json` is unlinked and
   * the directory fsynced, durable once this resolves; a no-op when there is
   * none. Fenced like {@link setStageMeta}. A stage left with no record and no
   * metadata loses its directory when its journal closes (the last `deinit`
   * of the stage in this process), or when its lock is released.
   *
   * @throws StateStoreError when this is not a stage scope's store, or the file cannot be removed.
   */
  async deleteStageMeta(): Promise<void> {
    const stageDir = this.#metaStageDir("delete the stage metadata of");
    await this.#ready();
    // Checked and removed in one synchronous step, as setStageMeta does.
    const refused = this.#journal!.refusal();
    if (refused !== undefined) throw refused;
    removeStageMeta(stageDir);
  }

  #metaStageDir(doing: string): string {
    if (this.stageDir === undefined || this.#chain.length !== 2) throw notAStageStore(doing, this.#chain, this.scopeDir);
    return this.stageDir;
  }

  #stageLevel(doing: string): string {
    if (this.stageDir === undefined || this.#chain.length !== 2) {
      throw new StateStoreError(`Cannot ${doing} "${this.#scopePath}": stage locks belong to the store of a stage scope (app/stage).`, this.scopeDir);
    }
    return this.stageDir;
  }

  /** Opens the stage's journal and replays what a crashed run left in it. */
  async init(): Promise<void> {
    await this.#ready();
  }

  /** Releases the journal; the last store of the stage checkpoints it. */
  async deinit(): Promise<void> {
    const journal = this.#journal;
    this.#journal = undefined;
    if (journal === undefined) return;
    await journal.materialize(); // even if another store of the stage keeps the journal open
    await releaseJournal(journal);
  }

  async get(id: string): Promise<State | undefined> {
    this.#checkId(id);
    await this.#ready();
    const pending = this.#journal?.pendingText(this.#recordFile(id));
    if (pending === undefined) return readRecord(this.scopeDir, id, this.#scopePath, this.#readMode());
    return pending === null ? undefined : parseStateFile(pending, this.#recordFile(id), id, `${this.#scopePath}/${id}`);
  }

  async getBatch(ids: string[]): Promise<Record<string, State>> {
    ids.forEach((id) => this.#checkId(id));
    return getEach(ids, (id) => this.get(id));
  }

  async list(): Promise<string[]> {
    await this.#ready();
    const ids = new Set(listRecordIds(this.scopeDir));
    for (const [name, text] of this.#journal?.pendingIn(this.scopeDir) ?? []) {
      const id = name.slice(0, -RECORD_SUFFIX.length);
      if (text === null) ids.delete(id);
      else ids.add(id);
    }
    return [...ids];
  }

  async listScopes(): Promise<string[]> {
    await this.#ready();
    if (this.stageDir === undefined) {
      // A stage whose only records are still in its journal must be listed too.
      await materializeOpenJournals();
      await recoverStagesBelow(this.scopeDir, 2 - this.#chain.length, { checkpointBytes: this.#checkpointBytes });
      return listChildScopes(this.scopeDir);
    }
    const pending = this.#journal?.pendingChildDirs(this.scopeDir);
    // Whether a removal not yet on disk empties a child scope is known once it is on disk.
    if (pending?.removals) {
      await this.#journal!.materialize();
      return listChildScopes(this.scopeDir);
    }
    const names = new Set(listChildScopes(this.scopeDir));
    for (const name of pending?.written ?? []) names.add(name);
    return [...names];
  }

  /** The records on disk, overlaid (in the same turn of the event loop) with acknowledged changes not yet on disk. */
  async all(): Promise<Record<string, State>> {
    await this.#ready();
    const records = readAllRecords(this.scopeDir, this.#scopePath, this.#readMode());
    for (const [name, text] of this.#journal?.pendingIn(this.scopeDir) ?? []) {
      const id = name.slice(0, -RECORD_SUFFIX.length);
      if (text === null) delete records[id];
      else putEntry(records, id, parseStateFile(text, path.join(this.scopeDir, name), id, `${this.#scopePath}/${id}`));
    }
    return records;
  }

  async count(): Promise<number> {
    return (await this.list()).length;
  }

  /**
   * The newest modification time among this scope's record files and its
   * directory (which changes whenever a record file is added, replaced or
   * removed, so a removal counts too; creating a child scope's directory,
   * or writing the stage's metadata file, moves it as well). Changes still only in the journal are first written to
   * their files. `undefined` when the directory does not exist, and above the
   * stage level, where no record lives.
   */
  async updatedAt(): Promise<Date | undefined> {
    await this.#ready();
    if (this.stageDir === undefined) return undefined;
    if (this.#journal!.pendingIn(this.scopeDir).size > 0) await this.#journal!.materialize();
    let newest = this.#mtimeOf(this.scopeDir);
    if (newest === undefined) return undefined;
    for (const id of listRecordIds(this.scopeDir)) newest = Math.max(newest, this.#mtimeOf(this.#recordFile(id)) ?? 0);
    return new Date(newest);
  }

  async set(id: string, state: State): Promise<void> {
    this.#checkId(id);
    const file = this.#recordFile(id);
    assertWritableState(state, id, file);
    const journal = this.#write(id);
    // A record path once seen free stays free unless this store makes a directory there, which the journal knows.
    const problem = journal.willCreateDirectory(file)
      ? `${file} is a directory`
      : this.#freePaths.has(file)
        ? undefined
        : recordPathProblem(file);
    if (problem !== undefined) {
      throw new StateStoreError(
        `Cannot write record "${id}": ${problem}. A scope and a record clash on this name; ` +
          `rename the scope or the resource, or move the file aside.`,
        file,
      );
    }
    this.#freePaths.add(file);
    await journal.write({ op: "set", path: [...this.#chain.slice(2), id], state });
  }

  async delete(id: string): Promise<void> {
    this.#checkId(id);
    await this.#write(id).write({ op: "delete", path: [...this.#chain.slice(2), id] });
  }

  #checkId(id: string): void {
    assertValidName(id, "resource id", this.#scopePath || "/");
  }

  /** Modification time of `target` in ms, or `undefined` when it is gone. */
  #mtimeOf(target: string): number | undefined {
    try {
      return fs.statSync(target).mtimeMs;
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw new StateStoreError(
        `Cannot read the modification time of ${target}: ${toError(error).message}. ` +
          `Check that it belongs to the user running alchemy (modes 0700 for directories, 0600 for files).`,
        target,
        { cause: error },
      );
    }
  }

  /** Unchecked while this process holds the stage's lock (its journal is fenced): no other process writes the stage then. */
  #readMode(): ReadMode {
    return this.#journal?.fence === undefined ? "checked" : "unchecked";
  }

  #recordFile(id: string): string {
    return path.join(this.scopeDir, `${id}.json`);
  }

  /** The journal that takes a write of `id`; only a stage or a scope below it has one. */
  #write(id: string): StageJournal {
    if (this.stageDir === undefined) {
      throw new StateStoreError(
        `Cannot write record "${id}" in "${this.#scopePath || "/"}": records live in a stage or a scope below it. ` +
          `Create the store for a scope whose chain has at least an application and a stage, e.g. ["my-app", "dev"].`,
        this.#recordFile(id),
      );
    }
    return (this.#journal ??= acquireJournal(this.stageDir, { checkpointBytes: this.#checkpointBytes }));
  }

  /** Replays a crashed run's journal once, before the first read or write. */
  async #ready(): Promise<void> {
    if (this.stageDir === undefined) return;
    const journal = (this.#journal ??= acquireJournal(this.stageDir, { checkpointBytes: this.#checkpointBytes }));
    await journal.ready();
  }
}
