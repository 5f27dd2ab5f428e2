/**
 * The default state store: one pretty-printed JSON file per resource under
 * `.alchemy/`, made durable by a per-stage write-ahead journal.
 *
 * ```
 * .alchemy/my-app/prod/~journal          write-ahead journal of the stage
 * .alchemy/my-app/prod/~lock             the stage's lock (see file-lock.ts)
 * .alchemy/my-app/prod/~fence-<id>       the lock holder's fence (see stage-fence.ts)
 * .alchemy/my-app/prod/~stage.json       metadata of the stage (see stage-meta-file.ts)
 * .alchemy/my-app/prod/api.json          record "api" of the stage
 * .alchemy/my-app/prod/backend/db.json   record "db" of nested scope "backend"
 * ```
 *
 * Only the process holding a stage's lock writes anything of the stage;
 * every other process only reads it (see stage-files.ts).
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { StateStoreError, toError } from "../../core/errors.js";
import { assertValidName, type NameKind } from "../../core/names.js";
import type { HistoryItem, HistoryListing, StageMeta, State, StateStore, StateStoreScope } from "../state-store.js";
import { readHistoryEntries, readHistorySnapshot, removeHistoryItems, writeHistoryItem } from "./history-files.js";
import { assertHistoryRun, notAStageHistory } from "../history-items.js";
import type { LockInfo, LockRequest, StageLock, StageLocking } from "../stage-lock.js";
import { forceUnlock, readLock } from "./file-lock.js";
import { errorCode } from "./durable-files.js";
import type { StageJournal } from "./journal.js";
import {
  RECORD_SUFFIX,
  assertRealDirectories,
  listChildScopes,
  listRecordIds,
  readAllRecords,
  readRecord,
  readScopeTree,
  recordPathProblem,
} from "./scope-dir.js";
import type { StageFiles } from "./stage-files.js";
import { acquireStage, namesHoldingRecords, releaseStage } from "./stage-registry.js";
import { JOURNAL_NAME, STAGE_META_NAME } from "./stage-layout.js";
import { assertWritableState, getEach, parseStateFile, putEntry, serializeState } from "../state-record.js";
import { readStageMeta, removeStageMeta, writeStageMeta } from "./stage-meta-file.js";
import { notAStageStore, stageMetaText } from "../stage-meta.js";
import { stateDirWarnings } from "./state-dir-modes.js";

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
  /**
   * Whether the files of replaced records are recycled (see spare-files.ts):
   * much faster rewrites of many records on ext4; turn it off on a file
   * system without hard links (it falls back by itself when linking fails).
   * Taken from the first store that opens the stage in a process.
   * @default true (false on Windows)
   */
  recycleReplacedFiles?: boolean;
}

const DEFAULT_CHECKPOINT_BYTES = 8 * 1024 * 1024;

/**
 * A {@link StateStore} keeping each record in `<dir>/<app>/<stage>/<scopes...>/<id>.json`
 * (mode 0600, directories 0700).
 *
 * A write resolves once it is durable: it is appended to the stage's journal
 * and fdatasynced together with every other write waiting at that moment, then
 * the record file is replaced atomically (temp file + rename), so readers,
 * including other processes, only ever see whole records. Only the process
 * holding the stage's lock writes (a write without a run's lock takes it);
 * any other process reads the files and lays the journal's acknowledged
 * changes over them, changing nothing. After a crash, the next process that
 * takes the lock replays the journal. Stores of one stage in one process
 * share it; `deinit` releases it, and the last release (or the release of the
 * run's lock) makes the record files durable and empties the journal.
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
  readonly #recycle: boolean;
  #stage: StageFiles | undefined;
  #checkedDirs = false;
  /** Record paths already checked not to be taken by a directory or a link. */
  readonly #freePaths = new Set<string>();

  /** @throws ScopeError when a segment of `scope.chain` is not a valid name. */
  constructor(scope: StateStoreScope, options: FileSystemStateStoreOptions = {}) {
    const chain = [...scope.chain];
    const kinds: NameKind[] = ["application", "stage"];
    chain.forEach((name, i) => assertValidName(name, kinds[i] ?? "scope", chain.slice(0, i).join("/") || "/"));
    this.#chain = chain;
    this.#scopePath = chain.join("/");
    this.#checkpointBytes = options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES;
    this.#recycle = options.recycleReplacedFiles ?? true;
    this.dir = path.resolve(options.dir ?? ".alchemy");
    this.scopeDir = path.join(this.dir, ...chain);
    this.stageDir = chain.length >= 2 ? path.join(this.dir, chain[0]!, chain[1]!) : undefined;
  }

  /**
   * Takes the stage's lock (`<stage dir>/~lock`; see file-lock.ts). Call it on
   * the stage scope's store before reading. It fences off every earlier
   * holder (stage-fence.ts) and replays what a crashed one left in the
   * journal; from then on this process is the stage's only writer, every
   * journal commit first checks that the lock is still ours, and releasing
   * it checkpoints the journal.
   */
  async lock(request: LockRequest): Promise<StageLock> {
    const stageDir = this.#stageLevel("lock");
    await this.#open();
    // The lock keeps the stage open in this process until it is released, whatever the stores do meanwhile.
    const stage = acquireStage(stageDir, this.#stageOptions());
    let lock: StageLock;
    try {
      lock = await stage.lock(request);
    } catch (error) {
      await releaseStage(stage);
      throw error;
    }
    let released: Promise<void> | undefined;
    return {
      ...lock,
      release: () =>
        (released ??= (async () => {
          try {
            await lock.release();
          } finally {
            await releaseStage(stage);
          }
        })()),
    };
  }

  /** The stage's lock, if any. */
  async lockInfo(): Promise<LockInfo | undefined> {
    return readLock(this.#stageLevel("read the lock of"));
  }

  /** Removes the stage's lock if its id is `lockId`; its holder's writes are refused from then on. */
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
    const stageDir = this.#metaStageDir("read the stage metadata of");
    await this.#open();
    return readStageMeta(stageDir);
  }

  /**
   * Replaces the stage's metadata: `<stage dir>/~stage.json` is rewritten
   * atomically and is durable once this resolves (see stage-meta-file.ts).
   * Like a record write, it takes the stage's lock if this process does not
   * hold it, and is fenced like a journal commit: it rejects with the
   * `LockLostError` of a lock taken over.
   *
   * @throws StateStoreError when `meta` is not a plain JSON object, or this is not a stage scope's store.
   */
  async setStageMeta(meta: StageMeta): Promise<void> {
    const stageDir = this.#metaStageDir("write the stage metadata of");
    const text = stageMetaText(meta, path.join(stageDir, STAGE_META_NAME), 2) + "\n";
    const journal = await this.#journal();
    // Checked and written in one synchronous step, so no commit or lock change of this process lands between.
    const refused = journal.refusal();
    if (refused !== undefined) throw refused;
    writeStageMeta(stageDir, text, journal.guard.writes);
  }

  /**
   * Removes the stage's metadata: `<stage dir>/~stage.json` is unlinked and
   * the directory fsynced, durable once this resolves; a no-op when there is
   * none. Fenced like {@link setStageMeta}. A stage left with no record and no
   * metadata loses its directory when its lock is released.
   *
   * @throws StateStoreError when this is not a stage scope's store, or the file cannot be removed.
   */
  async deleteStageMeta(): Promise<void> {
    const stageDir = this.#metaStageDir("delete the stage metadata of");
    const journal = await this.#journal();
    // Checked and removed in one synchronous step, as setStageMeta does.
    const refused = journal.refusal();
    if (refused !== undefined) throw refused;
    removeStageMeta(stageDir, journal.guard.writes);
  }

  /** Writes an entry of the stage's history under `<stage dir>/~history/` (see history-files.ts); fenced like {@link setStageMeta}. */
  async appendHistory(item: HistoryItem): Promise<void> {
    const stageDir = this.#historyStageDir("append to the history of");
    const journal = await this.#journal();
    const refused = journal.refusal();
    if (refused !== undefined) throw refused;
    writeHistoryItem(stageDir, item, journal.guard.writes);
  }

  /** The stage's history entries, newest first. */
  async listHistory(limit?: number): Promise<HistoryListing[]> {
    const stageDir = this.#historyStageDir("list the history of");
    await this.#open();
    return readHistoryEntries(stageDir, limit);
  }

  /** The snapshot kept with entry `run`. */
  async getHistorySnapshot(run: string): Promise<Uint8Array | undefined> {
    const stageDir = this.#historyStageDir("read the history of");
    assertHistoryRun(run, stageDir);
    await this.#open();
    return readHistorySnapshot(stageDir, run);
  }

  /** Removes the entries named; fenced like {@link setStageMeta}. */
  async deleteHistory(runs: string[]): Promise<void> {
    const stageDir = this.#historyStageDir("delete from the history of");
    runs.forEach((run) => assertHistoryRun(run, stageDir));
    const journal = await this.#journal();
    const refused = journal.refusal();
    if (refused !== undefined) throw refused;
    removeHistoryItems(stageDir, runs, journal.guard.writes);
  }

  #historyStageDir(doing: string): string {
    if (this.stageDir === undefined || this.#chain.length !== 2) throw notAStageHistory(doing, this.#chain, this.scopeDir);
    return this.stageDir;
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

  /** Opens the stage (reads only; the stage's lock holder is the one that replays a crashed run's journal). */
  async init(): Promise<void> {
    await this.#open();
  }

  /** Lets go of the stage; the last store of the stage in this process checkpoints its journal. */
  async deinit(): Promise<void> {
    const stage = this.#stage;
    this.#stage = undefined;
    if (stage === undefined) return;
    try {
      await stage.materialize(); // even if another store of the stage keeps it open
    } finally {
      await releaseStage(stage);
    }
  }

  /**
   * Problems of the state directory that do not stop the store: a
   * directory other users may write to, where they could plant records or
   * links. The engine reports them as warnings.
   */
  warnings(): string[] {
    return stateDirWarnings(this.dir, this.scopeDir);
  }

  async get(id: string): Promise<State | undefined> {
    this.#checkId(id);
    const file = this.#recordFile(id);
    const stage = await this.#open();
    if (stage === undefined) return undefined;
    const { files: onDisk, pending } = await stage.read((mode) => readRecord(this.scopeDir, id, this.#scopePath, mode));
    const text = pending.text(file);
    if (text === undefined) return onDisk;
    return text === null ? undefined : parseStateFile(text, file, id, `${this.#scopePath}/${id}`);
  }

  async getBatch(ids: string[]): Promise<Record<string, State>> {
    ids.forEach((id) => this.#checkId(id));
    return getEach(ids, (id) => this.get(id));
  }

  async list(): Promise<string[]> {
    const stage = await this.#open();
    if (stage === undefined) return [];
    const { files, pending } = await stage.read(() => listRecordIds(this.scopeDir));
    const ids = new Set(files);
    for (const [name, text] of pending.in(this.scopeDir)) {
      const id = name.slice(0, -RECORD_SUFFIX.length);
      if (text === null) ids.delete(id);
      else ids.add(id);
    }
    return [...ids];
  }

  async listScopes(): Promise<string[]> {
    const stage = await this.#open();
    if (stage === undefined) return namesHoldingRecords(this.scopeDir, this.#chain.length === 0 ? 2 : 1);
    const { files: tree, pending } = await stage.read(() => readScopeTree(this.scopeDir));
    return listChildScopes(tree, this.scopeDir, pending);
  }

  /** The records on disk, overlaid with acknowledged changes not yet on disk. */
  async all(): Promise<Record<string, State>> {
    const stage = await this.#open();
    if (stage === undefined) return {};
    const { files: records, pending } = await stage.read((mode) => readAllRecords(this.scopeDir, this.#scopePath, mode));
    for (const [name, text] of pending.in(this.scopeDir)) {
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
   * or writing the stage's metadata file, moves it as well), and, when the
   * journal holds a change to this scope not yet in its file, the journal's.
   * `undefined` when the directory does not exist, and above the stage
   * level, where no record lives.
   */
  async updatedAt(): Promise<Date | undefined> {
    const stage = await this.#open();
    if (stage === undefined) return undefined;
    const { files: newest, pending } = await stage.read(() => {
      let found = this.#mtimeOf(this.scopeDir);
      if (found !== undefined) for (const id of listRecordIds(this.scopeDir)) found = Math.max(found, this.#mtimeOf(this.#recordFile(id)) ?? 0);
      return found;
    });
    // A change not yet in its file is in the journal, written no earlier than the change.
    const journaled = pending.in(this.scopeDir).size > 0 ? this.#mtimeOf(path.join(this.stageDir!, JOURNAL_NAME)) : undefined;
    if (newest === undefined && journaled === undefined) return undefined;
    return new Date(Math.max(newest ?? 0, journaled ?? 0));
  }

  async set(id: string, state: State): Promise<void> {
    this.#checkId(id);
    const file = this.#recordFile(id);
    assertWritableState(state, id, file, `${this.#scopePath}/${id}`);
    // Made before anything is touched: a record JSON cannot hold is refused with nothing written, and the text is a snapshot.
    const text = serializeState(state, file);
    const journal = this.#stage?.readyJournal ?? (await this.#journal(id));
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
    await journal.write({ op: "set", path: [...this.#chain.slice(2), id], state }, text);
  }

  async delete(id: string): Promise<void> {
    this.#checkId(id);
    const journal = this.#stage?.readyJournal ?? (await this.#journal(id));
    await journal.write({ op: "delete", path: [...this.#chain.slice(2), id] });
  }

  #checkId(id: string): void {
    assertValidName(id, "resource id", this.#scopePath || "/");
  }

  /** Modification time of `target` in ms, or `undefined` when it is gone. */
  #mtimeOf(target: string): number | undefined {
    try {
      return fs.lstatSync(target).mtimeMs;
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

  #recordFile(id: string): string {
    return path.join(this.scopeDir, `${id}.json`);
  }

  /** The journal that takes a write (of record `id`); only a stage or a scope below it has one. */
  async #journal(id?: string): Promise<StageJournal> {
    if (this.stageDir === undefined) {
      throw new StateStoreError(
        `Cannot write record "${id}" in "${this.#scopePath || "/"}": records live in a stage or a scope below it. ` +
          `Create the store for a scope whose chain has at least an application and a stage, e.g. ["my-app", "dev"].`,
        this.#recordFile(id ?? ""),
      );
    }
    return (await this.#open())!.journal();
  }

  /** The stage this store belongs to (`undefined` above the stage level), its directories checked for links once. */
  async #open(): Promise<StageFiles | undefined> {
    if (!this.#checkedDirs) {
      assertRealDirectories(this.dir, this.scopeDir);
      this.#checkedDirs = true;
    }
    if (this.stageDir === undefined) return undefined;
    return (this.#stage ??= acquireStage(this.stageDir, this.#stageOptions()));
  }

  #stageOptions(): { checkpointBytes: number; recycleReplacedFiles: boolean } {
    return { checkpointBytes: this.#checkpointBytes, recycleReplacedFiles: this.#recycle };
  }
}
