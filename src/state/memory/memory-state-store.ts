/**
 * The reference state store: records kept in memory, copied in and out as JSON
 * so that callers see exactly what a persistent store would give them.
 *
 * @module
 */
import { assertValidName } from "../../core/names.js";
import { notAStageStore, parseStageMeta, stageMetaText } from "../stage-meta.js";
import { StateStoreError } from "../../core/errors.js";
import { assertWritableState, getEach, putEntry, readStoredState, stateJson } from "../state-record.js";
import type { HistoryItem, HistoryListing, StageMeta, State, StateStore, StateStoreScope } from "../state-store.js";
import { assertHistoryRun, historyEntryText, newestFirst, notAStageHistory, parseHistoryEntry } from "../history-items.js";

/**
 * The backing of one or more {@link MemoryStateStore}s: every record of every
 * scope, keyed by scope chain and id. Stores over the same tree see each
 * other's writes, which is how a test "reopens" a memory store.
 *
 * @example
 * const tree = createMemoryStateTree();
 * const factory = (scope) => new MemoryStateStore(scope, { tree });
 */
export class MemoryStateTree {
  /** Records as JSON text, by scope key (`chain.join("/")`), then by id. */
  readonly #scopes = new Map<string, Map<string, string>>();
  /** When a record of a scope was last written or removed, by scope key (kept after the scope empties). */
  readonly #changedAt = new Map<string, Date>();
  /** Stage metadata as JSON text, by stage key (`app/stage`); apart from the records, so never listed. */
  readonly #stageMeta = new Map<string, string>();
  /** Stage history by stage key, then run id; apart from the records, so never listed. */
  readonly #history = new Map<string, Map<string, { text: string; snapshot: Uint8Array }>>();

  /** The records of the scope `key`; created when `create` is set. */
  records(key: string, create: true): Map<string, string>;
  records(key: string, create?: false): Map<string, string> | undefined;
  records(key: string, create = false): Map<string, string> | undefined {
    let records = this.#scopes.get(key);
    if (records === undefined && create) this.#scopes.set(key, (records = new Map()));
    return records;
  }

  /** Forgets the scope `key` once it holds no record, so it is no longer listed. */
  prune(key: string): void {
    if (this.#scopes.get(key)?.size === 0) this.#scopes.delete(key);
  }

  /** Notes that a record of the scope `key` was written or removed just now. */
  touch(key: string): void {
    this.#changedAt.set(key, new Date());
  }

  /** When a record of the scope `key` last changed, or `undefined` if none ever did. */
  changedAt(key: string): Date | undefined {
    const at = this.#changedAt.get(key);
    return at === undefined ? undefined : new Date(at);
  }

  /** The metadata text of the stage `key` (`app/stage`), or `undefined` if none was written. */
  stageMeta(key: string): string | undefined {
    return this.#stageMeta.get(key);
  }

  /** Replaces the metadata text of the stage `key`. */
  setStageMeta(key: string, text: string): void {
    this.#stageMeta.set(key, text);
  }

  /** Forgets the metadata of the stage `key`, if any. */
  deleteStageMeta(key: string): void {
    this.#stageMeta.delete(key);
  }

  /** The history of the stage `key` (`app/stage`): entry text and snapshot by run id; created when `create` is set. */
  history(key: string, create: true): Map<string, { text: string; snapshot: Uint8Array }>;
  history(key: string, create?: false): Map<string, { text: string; snapshot: Uint8Array }> | undefined;
  history(key: string, create = false): Map<string, { text: string; snapshot: Uint8Array }> | undefined {
    let entries = this.#history.get(key);
    if (entries === undefined && create) this.#history.set(key, (entries = new Map()));
    return entries;
  }

  /** Names of the direct children of scope `key` that hold a record somewhere below. */
  childScopes(key: string): string[] {
    const prefix = key === "" ? "" : key + "/";
    const names = new Set<string>();
    for (const [other, records] of this.#scopes) {
      if (other === key || !other.startsWith(prefix) || records.size === 0) continue;
      names.add(other.slice(prefix.length).split("/")[0]!);
    }
    return [...names];
  }

  /** Removes every record of every scope, and every stage's metadata. */
  clear(): void {
    this.#scopes.clear();
    this.#changedAt.clear();
    this.#stageMeta.clear();
    this.#history.clear();
  }
}

/**
 * A new, empty {@link MemoryStateTree}.
 *
 * @example
 * const tree = createMemoryStateTree();
 */
export function createMemoryStateTree(): MemoryStateTree {
  return new MemoryStateTree();
}

/** The process-wide tree used by stores created without a `tree` option. */
const processTree = new MemoryStateTree();

/** Options of {@link MemoryStateStore}. */
export interface MemoryStateStoreOptions {
  /**
   * Where the records live.
   * @default one process-wide tree, shared by every store created without this option
   */
  tree?: MemoryStateTree;
}

/**
 * A {@link StateStore} that keeps records in memory. It is the reference
 * implementation of the contract (it validates names and records like the
 * persistent stores do) and is handy in tests; its records vanish with the process.
 *
 * @example
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new MemoryStateStore(scope),
 * });
 */
export class MemoryStateStore implements StateStore {
  readonly #tree: MemoryStateTree;
  readonly #chain: readonly string[];
  readonly #key: string;
  readonly #path: string;

  /** @throws ScopeError when a segment of `scope.chain` is not a valid name. */
  constructor(scope: StateStoreScope, options: MemoryStateStoreOptions = {}) {
    const chain = [...scope.chain];
    chain.forEach((name, i) =>
      assertValidName(name, i === 0 ? "application" : i === 1 ? "stage" : "scope", chain.slice(0, i).join("/") || "/"),
    );
    this.#tree = options.tree ?? processTree;
    this.#chain = chain;
    this.#key = chain.join("/");
    this.#path = this.#key || "/";
  }

  async get(id: string): Promise<State | undefined> {
    this.#check(id);
    const text = this.#tree.records(this.#key)?.get(id);
    return text === undefined ? undefined : this.#parse(id, text);
  }

  async getBatch(ids: string[]): Promise<Record<string, State>> {
    ids.forEach((id) => this.#check(id));
    return getEach(ids, (id) => this.get(id));
  }

  async list(): Promise<string[]> {
    return [...(this.#tree.records(this.#key)?.keys() ?? [])];
  }

  async listScopes(): Promise<string[]> {
    return this.#tree.childScopes(this.#key);
  }

  async all(): Promise<Record<string, State>> {
    const found: Record<string, State> = {};
    for (const [id, text] of this.#tree.records(this.#key) ?? []) putEntry(found, id, this.#parse(id, text));
    return found;
  }

  async set(id: string, state: State): Promise<void> {
    this.#check(id);
    const location = `memory:${this.#path}/${id}`;
    assertWritableState(state, id, location, `${this.#key}/${id}`);
    this.#tree.records(this.#key, true).set(id, stateJson(state, location));
    this.#tree.touch(this.#key);
  }

  async delete(id: string): Promise<void> {
    this.#check(id);
    if (this.#tree.records(this.#key)?.delete(id)) this.#tree.touch(this.#key);
    this.#tree.prune(this.#key);
  }

  async count(): Promise<number> {
    return this.#tree.records(this.#key)?.size ?? 0;
  }

  /** When a record of this scope was last written or removed in this tree, or `undefined` if never. */
  async updatedAt(): Promise<Date | undefined> {
    return this.#tree.changedAt(this.#key);
  }

  /** The stage's metadata in this tree (a fresh copy), or `undefined` if none was written. */
  async getStageMeta(): Promise<StageMeta | undefined> {
    const location = this.#stageMetaLocation("read the stage metadata of");
    const text = this.#tree.stageMeta(this.#key);
    return text === undefined ? undefined : parseStageMeta(text, location, "Write it again with setStageMeta.");
  }

  /** Replaces the stage's metadata with a copy of `meta`; the records are not touched. */
  async setStageMeta(meta: StageMeta): Promise<void> {
    const location = this.#stageMetaLocation("write the stage metadata of");
    this.#tree.setStageMeta(this.#key, stageMetaText(meta, location));
  }

  /** Removes the stage's metadata (a no-op when there is none); the records are not touched. */
  async deleteStageMeta(): Promise<void> {
    this.#stageMetaLocation("delete the stage metadata of");
    this.#tree.deleteStageMeta(this.#key);
  }

  /** Keeps a copy of `item` in this tree's history of the stage. */
  async appendHistory(item: HistoryItem): Promise<void> {
    const location = this.#historyLocation("append to the history of");
    const text = historyEntryText(item, location);
    this.#tree.history(this.#key, true).set(item.run, { text, snapshot: new Uint8Array(item.snapshot) });
  }

  /** The stage's history entries, newest first. */
  async listHistory(limit?: number): Promise<HistoryListing[]> {
    const location = this.#historyLocation("list the history of");
    const all = [...(this.#tree.history(this.#key) ?? [])].map(([run, { text }]) => ({ run, text }));
    return newestFirst(all, limit).map(({ run, text }) => parseHistoryEntry(run, text, location));
  }

  /** A copy of the snapshot kept with entry `run`. */
  async getHistorySnapshot(run: string): Promise<Uint8Array | undefined> {
    const location = this.#historyLocation("read the history of");
    assertHistoryRun(run, location);
    const found = this.#tree.history(this.#key)?.get(run);
    return found === undefined ? undefined : new Uint8Array(found.snapshot);
  }

  /** Forgets the entries named. */
  async deleteHistory(runs: string[]): Promise<void> {
    const location = this.#historyLocation("delete from the history of");
    runs.forEach((run) => assertHistoryRun(run, location));
    const entries = this.#tree.history(this.#key);
    for (const run of runs) entries?.delete(run);
  }

  /** `memory:app/stage#history`, after checking that this is the store of a stage scope. */
  #historyLocation(doing: string): string {
    const location = `memory:${this.#path}#history`;
    if (this.#chain.length !== 2) throw notAStageHistory(doing, this.#chain, location);
    return location;
  }

  /** `memory:app/stage#meta`, after checking that this is the store of a stage scope. */
  #stageMetaLocation(doing: string): string {
    const location = `memory:${this.#path}#meta`;
    if (this.#chain.length !== 2) throw notAStageStore(doing, this.#chain, location);
    return location;
  }

  /** The record `id` from its text, checked like a persistent store checks what it reads. */
  #parse(id: string, text: string): State {
    const location = `memory:${this.#path}/${id}`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new StateStoreError(`The record ${location} is not valid JSON (${(error as Error).message}). Write it again with set().`, location, { cause: error });
    }
    const state = readStoredState(value, id, `${this.#key}/${id}`);
    if (typeof state === "string") {
      throw new StateStoreError(
        `The record ${location} is not a state record: it ${state}. Nothing was changed. ` +
          `Write it again with set(), or remove it with delete() (the resource it describes is then no longer tracked).`,
        location,
      );
    }
    return state;
  }

  #check(id: string): void {
    assertValidName(id, "resource id", this.#path);
  }
}
