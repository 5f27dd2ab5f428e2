/**
 * A node of the scope tree: application -> stage -> nested -> resource scopes.
 * A scope knows its path, its state store, the records it holds, and what the
 * program declared in it during this run; finalizing compares the two.
 *
 * @module
 */
import type { State, StateStore, StateStoreFactory, StateStoreScope } from "../state/state-store.js";
import { mergeDeletionOptions, type DeletionOptions } from "./deletion-options.js";
import { ScopeError } from "./errors.js";
import type { CredentialOverride, Credentials } from "./profiles/credentials.js";
import { firstSecretPath, isSealed, needsSealing, openState, sealState } from "./secrets/secret-codec.js";
import { finalizeNestedScope, finalizeScope } from "./finalize.js";
import { assertValidName } from "./names.js";
import type { Phase } from "./options.js";
import type { RunContext } from "./run-context.js";

/** Where a scope sits in the tree. */
export type ScopeKind = "application" | "stage" | "nested" | "resource";

const SCOPE = Symbol.for("alchemy.scope");

/** True when `value` is a {@link Scope} (of any copy of this package). */
export function isScope(value: unknown): value is Scope {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SCOPE] === true;
}

/** What a scope with no children or declarations answers. */
const NONE: ReadonlyMap<string, never> = new Map<string, never>();

/**
 * A scope of resources. Users get one from `alchemy(...)` (the application),
 * from `alchemy.run(name, fn)` (nested) and as `this.scope` in a handler.
 *
 * @example
 * await alchemy.run("backend", async (scope) => {
 *   console.log(scope.path); // "my-app/dev/backend"
 * });
 */
export class Scope implements StateStoreScope, AsyncDisposable {
  /** Names from the application down to this scope. */
  readonly chain: readonly string[];
  /** `chain` joined with `/`, e.g. `my-app/dev/backend`. */
  readonly path: string;
  // Made on first use: most scopes are the scopes of resources whose handlers declare nothing.
  #children: Map<string, Scope> | undefined;
  #declared: Map<string, Promise<unknown>> | undefined;
  #pending: Set<Promise<unknown>> | undefined;
  /** True when the program ran this scope's block (or its resource's handler) this run. */
  ran = false;
  private finalizing?: Promise<void>;
  private storeInstance?: StateStore;
  private ownCredentials?: Credentials;
  private ownDeletionOptions?: DeletionOptions;
  private resourceOptions?: Map<string, DeletionOptions>;
  private recordsPromise?: Promise<Map<string, State>>;
  private childrenPromise?: Promise<string[]>;

  constructor(
    /** The run this scope belongs to. */
    readonly context: RunContext,
    /** This scope's own name (last element of `chain`). */
    readonly name: string,
    readonly kind: ScopeKind,
    readonly parent?: Scope,
    private readonly ownStoreFactory?: StateStoreFactory,
  ) {
    this.chain = parent ? [...parent.chain, name] : [name];
    this.path = this.chain.join("/");
    Object.defineProperty(this, SCOPE, { value: true });
  }

  /** Child scopes met in this run (run, resource or only walked). */
  get children(): ReadonlyMap<string, Scope> {
    return this.#children ?? NONE;
  }

  /** Resource ids declared in this scope during this run, with their pending operation. */
  get declared(): ReadonlyMap<string, Promise<unknown>> {
    return this.#declared ?? NONE;
  }

  /** The run's phase. */
  get phase(): Phase {
    return this.context.options.phase;
  }

  /** The run's credential profile (stores that authenticate read it). */
  get profile(): string {
    return this.context.options.profile;
  }

  /** Directory relative paths resolve against. */
  get rootDir(): string {
    return this.context.options.rootDir;
  }

  /** The store factory of this scope: its own, or inherited from its parent. */
  get storeFactory(): StateStoreFactory {
    const factory = this.ownStoreFactory ?? this.parent?.storeFactory;
    if (!factory) throw new ScopeError(`Scope "${this.path}" has no state store.`, this.path);
    return factory;
  }

  /** Credentials providers in this scope get: the run's profile, with the overrides of this scope and its parents. */
  get credentials(): Credentials {
    return this.ownCredentials ?? this.parent?.credentials ?? this.context.credentials;
  }

  /**
   * The `protect`/`retain` resources declared here inherit: this scope's own
   * (from `alchemy.run`, or the options of the resource whose scope it is)
   * over its parent's.
   */
  get deletionOptions(): DeletionOptions {
    const inherited = this.parent?.deletionOptions ?? {};
    const own = this.kind === "resource" ? this.parent?.resourceOptions?.get(this.name) : this.ownDeletionOptions;
    return own ? mergeDeletionOptions(inherited, own) : inherited;
  }

  /** Notes the options resource `id` was declared with, for the resources its handler declares. */
  noteResourceOptions(id: string, options: DeletionOptions): void {
    (this.resourceOptions ??= new Map()).set(id, options);
  }

  /** The state store holding this scope's records (made on first use). */
  get store(): StateStore {
    if (!this.storeInstance) {
      this.storeInstance = this.storeFactory(this);
      this.context.stores.add(this.storeInstance);
    }
    return this.storeInstance;
  }

  /** This scope's records, read from the store once per run and kept current. */
  records(): Promise<Map<string, State>> {
    this.recordsPromise ??= (async () => {
      const store = this.store;
      await store.init?.();
      const all = await store.all();
      const sealed = Object.values(all).filter(isSealed);
      if (sealed.length > 0) {
        // Secrets come back as Secret values; the password opens them once per run.
        const openOne = await this.context.secrets.opener();
        for (const state of sealed) all[state.id] = openState(state, openOne);
      }
      return new Map(Object.entries(all));
    })();
    return this.recordsPromise;
  }

  /**
   * Names of the child scopes the store holds, read once per run: scopes
   * emptied later in the run are still named (walking them finds nothing).
   */
  storedChildren(): Promise<string[]> {
    this.childrenPromise ??= this.records().then(() => this.store.listScopes());
    return this.childrenPromise;
  }

  /** Writes a record through the store, then into the in-memory view. */
  async write(state: State): Promise<void> {
    const records = await this.records();
    let stored = state;
    if (needsSealing(state)) {
      const seal = await this.context.secrets.sealer(state.fqn, firstSecretPath(state) ?? "its props");
      stored = sealState(state, seal);
    }
    await this.store.set(state.id, stored);
    records.set(state.id, state);
  }

  /** Removes a record through the store, then from the in-memory view. */
  async remove(id: string): Promise<void> {
    const records = await this.records();
    await this.store.delete(id);
    records.delete(id);
  }

  /** Registers a resource declaration; throws if the id is taken. */
  declare<T>(id: string, operation: () => Promise<T>): Promise<T> {
    assertValidName(id, "resource id", this.path);
    if (this.finalizing) {
      throw new ScopeError(
        `Cannot declare resource "${id}" in scope "${this.path}": the scope was already finalized. Declare resources before finalize().`,
        this.path,
      );
    }
    if (this.declared.has(id)) {
      throw new ScopeError(
        `Resource id "${id}" is declared twice in scope "${this.path}". Ids must be unique within a scope: rename one, or move it into its own alchemy.run(...) scope.`,
        this.path,
      );
    }
    if (this.children.get(id)?.kind === "nested" && this.children.get(id)?.ran) {
      throw new ScopeError(
        `Resource id "${id}" in scope "${this.path}" has the name of a nested scope there; rename one of them.`,
        this.path,
      );
    }
    const promise = operation();
    (this.#declared ??= new Map()).set(id, promise);
    return promise;
  }

  /** Opens the scope of an `alchemy.run(name)` block. */
  openNested(name: string, storeFactory?: StateStoreFactory, credentials?: Record<string, CredentialOverride>, deletion?: DeletionOptions): Scope {
    assertValidName(name, "scope", this.path);
    if (this.finalizing) {
      throw new ScopeError(`Cannot run scope "${name}" in "${this.path}": that scope was already finalized.`, this.path);
    }
    const existing = this.children.get(name);
    if (existing?.ran || this.declared.has(name)) {
      throw new ScopeError(
        `Scope name "${name}" is used twice in "${this.path}" (by ${existing?.ran ? "another alchemy.run block" : "a resource id"}). Give each nested scope a unique name.`,
        this.path,
      );
    }
    const scope = new Scope(this.context, name, "nested", this, storeFactory);
    if (credentials) scope.ownCredentials = this.credentials.withOverrides(credentials);
    if (deletion) scope.ownDeletionOptions = deletion;
    scope.ran = true;
    this.adopt(scope);
    return scope;
  }

  /** The scope of resource `id`, where resources its handler declares live. */
  resourceScope(id: string): Scope {
    let scope = this.children.get(id);
    if (!scope) this.adopt((scope = new Scope(this.context, id, "resource", this)));
    return scope;
  }

  /** A child scope that exists in state, whether or not it ran this time. */
  existingChild(name: string, isResource: boolean): Scope {
    let scope = this.children.get(name);
    if (!scope) this.adopt((scope = new Scope(this.context, name, isResource ? "resource" : "nested", this)));
    return scope;
  }

  /** Makes `child` (whose parent is this scope) one of this scope's children. */
  adopt(child: Scope): void {
    (this.#children ??= new Map()).set(child.name, child);
  }

  /** Counts `block` (an `alchemy.run` body) as running in this scope until it settles; returns its result. */
  async runBlock<T>(block: Promise<T>): Promise<T> {
    const pending = (this.#pending ??= new Set());
    pending.add(block);
    try {
      return await block;
    } finally {
      pending.delete(block);
    }
  }

  /** Waits until every declaration and block started in this scope has settled. */
  async settle(): Promise<void> {
    const pendingSize = () => this.#pending?.size ?? 0;
    let size = -1;
    while (size !== this.declared.size + pendingSize()) {
      size = this.declared.size + pendingSize();
      await Promise.allSettled([...this.declared.values(), ...(this.#pending ?? [])]);
    }
  }

  /** True once finalize has started. */
  get isFinalized(): boolean {
    return this.finalizing !== undefined;
  }

  /**
   * Deletes what this scope holds in state but the program no longer declares
   * (orphans), and earlier instances of replaced resources. Runs once; later
   * calls return the same promise. After a failed run it deletes nothing.
   */
  finalize(): Promise<void> {
    this.finalizing ??= finalizeScope(this);
    return this.finalizing;
  }

  /**
   * Orphan clean-up of the nested scope `name` only, whether or not its block
   * ran this time: if it did not, everything in it is an orphan.
   *
   * @example
   * await app.finalizeNested("legacy"); // deletes what was deployed in alchemy.run("legacy")
   */
  finalizeNested(name: string): Promise<void> {
    return finalizeNestedScope(this, name);
  }

  /** `await using scope = ...` finalizes the scope at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.finalize();
  }

  toString(): string {
    return `Scope(${this.path})`;
  }
}
