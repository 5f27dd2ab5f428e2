/**
 * The state store extension point: where the engine keeps one record per resource.
 *
 * A store instance serves exactly one scope (an application's stage, a nested
 * scope or a resource scope). It holds the records of that scope and knows the
 * names of its direct child scopes; the engine walks the tree itself.
 *
 * Contract every implementation keeps (checked by `describeStateStore` in
 * `alchemy/testing`):
 * - `set` and `delete` are atomic: a reader sees the old record or the new one,
 *   never a mix or a partial write. Once the returned promise resolves the change
 *   is durable (it survives a crash of the process and of the machine).
 * - `get` of an id that was never written (or was deleted) resolves `undefined`.
 * - `list`/`all`/`count` cover the records of this scope only; `listScopes`
 *   names direct child scopes only, and only those that hold at least one
 *   record somewhere below them.
 * - A record that cannot be read as a {@link State} makes the reading call
 *   reject with a {@link StateStoreError} naming where it is; it is never
 *   skipped or deleted.
 *
 * @module
 */

/** Lifecycle status of a resource record. */
export type ResourceStatus =
  | "creating"
  | "created"
  | "updating"
  | "updated"
  | "deleting"
  | "deleted";

/** Every status a record may hold, for validation. */
export const RESOURCE_STATUSES: readonly ResourceStatus[] = [
  "creating",
  "created",
  "updating",
  "updated",
  "deleting",
  "deleted",
];

/**
 * An earlier instance of a resource that was replaced and is deleted when its
 * scope is finalized. It is kept in the record of its successor so that a crash
 * between the replacement and the finalize cannot forget it.
 */
export interface ReplacedInstance {
  props: unknown;
  output: unknown;
  deps: string[];
}

/**
 * One resource's persisted record (seed 002, plus `deps` and `replaced`).
 *
 * @example
 * { status: "created", kind: "fs::File", id: "readme", fqn: "app/dev/readme",
 *   seq: 1, data: {}, props: { path: "README.md" }, output: { ... }, deps: [] }
 */
export interface State {
  status: ResourceStatus;
  /** Resource kind, e.g. `fs::File`. */
  kind: string;
  /** Resource id, unique within its scope. */
  id: string;
  /** Fully qualified name: `app/stage/nested.../id`. */
  fqn: string;
  /** Version of this record: incremented on every write. */
  seq: number;
  /** Free-form data the engine or a provider keeps beside the output. */
  data: Record<string, unknown>;
  /** Props the resource was last created or updated with (serialized). */
  props: unknown;
  /** Output the handler returned (undefined while `creating`). */
  output: unknown;
  /** fqns of the resources whose outputs appear in `props`. */
  deps: string[];
  /** Earlier instances awaiting deletion at finalize (replacement). */
  replaced?: ReplacedInstance[];
  /**
   * Set (only ever `true`) when the program declared the resource with
   * `protect: true`: a run that would delete or replace it fails first.
   */
  protect?: boolean;
  /**
   * Set (only ever `true`) when the program declared the resource with
   * `retain: true`: when it leaves the program or its stage is destroyed,
   * the record is forgotten and the delete handler is not called.
   */
  retain?: boolean;
}

/**
 * The part of a scope a store needs to know: its path from the application
 * down. `chain[0]` is the application name, `chain[1]` the stage.
 */
export interface StateStoreScope {
  readonly chain: readonly string[];
  /**
   * The credential profile of the run, for stores that authenticate with
   * one (the R2 REST store reads its token from the profile's `cloudflare`
   * section). Absent outside a run: such stores then use `$ALCHEMY_PROFILE`.
   */
  readonly profile?: string;
}

/**
 * A store for the records of one scope.
 *
 * @example
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new FileSystemStateStore(scope, { dir: ".alchemy" }),
 * });
 */
export interface StateStore {
  /** Prepare the store (open files, recover a journal). Called once before use. */
  init?(): Promise<void>;
  /** Release what `init` opened; the engine calls it once at the end of a run. */
  deinit?(): Promise<void>;
  /** The record with this id, or `undefined`. */
  get(id: string): Promise<State | undefined>;
  /** The records among `ids` that exist, keyed by id. */
  getBatch(ids: string[]): Promise<Record<string, State>>;
  /** Ids of the records directly in this scope. */
  list(): Promise<string[]>;
  /** Names of the direct child scopes that hold records. */
  listScopes(): Promise<string[]>;
  /** Every record directly in this scope, keyed by id. */
  all(): Promise<Record<string, State>>;
  /** Write a record atomically; durable once the promise resolves. */
  set(id: string, state: State): Promise<void>;
  /** Remove a record atomically (a no-op if absent); durable once resolved. */
  delete(id: string): Promise<void>;
  /** Number of records directly in this scope. */
  count(): Promise<number>;
  /**
   * When a record directly in this scope last changed (was written or
   * removed), if the store knows; `undefined` when it cannot tell, e.g. for a
   * scope that never held a record, or one a store stops tracking once it is
   * empty. Optional capability: tools such as `alchemy state stages` show it
   * where a store offers it.
   *
   * @example
   * const when = await store.updatedAt?.(); // Date | undefined
   */
  updatedAt?(): Promise<Date | undefined>;
  /**
   * The metadata of the stage this store belongs to (call on the stage scope's
   * store, `chain` = [app, stage]): a JSON object the engine keeps beside the
   * records, e.g. the salt and verifier of the stage's secrets. `undefined`
   * when none was written. Optional capability; a store without it cannot hold
   * secrets.
   */
  getStageMeta?(): Promise<StageMeta | undefined>;
  /**
   * Replaces the stage's metadata atomically; durable once resolved, fenced by
   * the stage lock like record writes. Metadata is not a record: it is not
   * listed, counted or returned by `all`, and a stage with metadata but no
   * records is still an empty stage for `listScopes` of the application.
   */
  setStageMeta?(meta: StageMeta): Promise<void>;
  /**
   * Removes the stage's metadata; a no-op when there is none. Durable once
   * resolved, and fenced by the stage lock exactly like `setStageMeta`: a run
   * whose lock was taken over gets the `LockLostError` and nothing is
   * removed. Afterwards `getStageMeta` resolves `undefined` (until the next
   * `setStageMeta`), and a stage left with neither records nor metadata
   * leaves nothing behind in the store. Call it on the stage scope's store;
   * any other store rejects with a `StateStoreError` naming its scope.
   * Optional capability, offered with the other two.
   *
   * @example
   * await stageStore.deleteStageMeta?.();
   * await stageStore.getStageMeta?.(); // undefined
   */
  deleteStageMeta?(): Promise<void>;
  /**
   * Keeps one entry of the stage's history (see `src/history/`): `item.run`
   * names it (a sortable run id), `item.entry` is the JSON a person reads,
   * `item.snapshot` bytes the engine keeps with it (opaque to the store).
   * Replaces an entry with the same run id. Durable once resolved, fenced by
   * the stage lock exactly like `setStageMeta`: a run whose lock was taken
   * over gets the `LockLostError` and nothing is written. Call it on the
   * stage scope's store; any other store rejects with a `StateStoreError`.
   * History is not a record: not listed, counted or returned by `all`.
   * Optional capability, offered with `listHistory`, `getHistorySnapshot`
   * and `deleteHistory`.
   *
   * @example
   * await stageStore.appendHistory?.({ run: "20260102T030405123Z-ab12", entry: { command: "deploy" }, snapshot: bytes });
   */
  appendHistory?(item: HistoryItem): Promise<void>;
  /**
   * The stage's history entries, newest (greatest run id) first, at most
   * `limit` of them (all when absent), without their snapshots.
   *
   * @example
   * const [last] = await stageStore.listHistory?.(1) ?? [];
   */
  listHistory?(limit?: number): Promise<HistoryListing[]>;
  /** The snapshot kept with the entry `run`, or `undefined` when there is no such entry. */
  getHistorySnapshot?(run: string): Promise<Uint8Array | undefined>;
  /**
   * Removes the entries named (a no-op for those that do not exist), durable
   * once resolved and fenced like {@link appendHistory}.
   */
  deleteHistory?(runs: string[]): Promise<void>;
  /**
   * Problems the store noticed that do not stop it, each a whole message
   * saying what is wrong, where, and how to fix it: e.g. a state directory
   * every user of the machine may write to. The engine reports each once
   * per run as a warning (after opening the stage's store), and the state
   * commands print them to stderr. Synchronous and cheap: called after
   * `init`, once per store the engine or a command opens. Optional
   * capability; without it, a store has nothing to report.
   *
   * @example
   * for (const message of store.warnings?.() ?? []) console.error(`! ${message}`);
   */
  warnings?(): string[];
}

/** One entry of a stage's history as a store keeps it (see {@link StateStore.appendHistory}). */
export interface HistoryItem extends HistoryListing {
  /** Bytes kept with the entry; opaque to the store. */
  snapshot: Uint8Array;
}

/** An entry of a stage's history without its snapshot, as {@link StateStore.listHistory} gives it. */
export interface HistoryListing {
  /** The run's id: letters, digits and `-` (checked by `historyRunProblem`), sortable by time. */
  run: string;
  /** What a person reads about the run: a plain JSON object. */
  entry: Record<string, unknown>;
}

/** A stage's metadata: a JSON object whose top-level keys belong to engine features (e.g. `secrets`). */
export type StageMeta = Record<string, unknown>;

/**
 * Makes the store for a scope. The engine calls it once per scope per run.
 *
 * @example
 * const factory: StateStoreFactory = (scope) => new MemoryStateStore(scope);
 */
export type StateStoreFactory = (scope: StateStoreScope) => StateStore;
