/**
 * Coalesces changes to a state that is expensive to apply. Miniflare applies a
 * configuration as a whole (`setOptions` restarts workerd, 100-300 ms), and a
 * deploy declares many resources at once: changes submitted in the same turn
 * of the event loop, or while an apply is in flight, are applied together, in
 * one call.
 *
 * @module
 */

/** One change: a label for errors and what it does to a draft of the state. */
export interface Change<State> {
  /** Names what changes, for error messages, e.g. `Worker "api"`. */
  readonly label: string;
  /**
   * Applies the change to `draft` (a copy). Throws to refuse it, which fails
   * this change only. Returns `false` when it changed nothing.
   */
  readonly mutate: (draft: State) => boolean | void;
}

/** Options of {@link ChangeBatcher}. */
export interface ChangeBatcherOptions<State> {
  /** The state before any change. */
  readonly initial: State;
  readonly clone: (state: State) => State;
  /** Makes `next` the state of the world. When it throws, the world may be left broken: see `restore`. */
  readonly apply: (next: State, changes: readonly Change<State>[]) => Promise<void>;
  /** Brings the world back to `good` (the last applied state) after a failed apply. */
  readonly restore: (good: State, failure: unknown) => Promise<void>;
}

/** How long an apply waits at most for changes being prepared (see {@link ChangeBatcher.submitAfter}). */
export const PREPARE_WAIT_MS = 1_000;

interface Pending<State> {
  readonly change: Change<State>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Applies submitted changes in batches. Every `submit` resolves once an apply
 * that contains its change has completed, or rejects with the error of the
 * apply that contained it alone: when a batch fails, its changes are retried
 * one at a time, so one bad change does not fail the others.
 *
 * @example
 * const batcher = new ChangeBatcher({ initial: new Set<string>(), clone: (s) => new Set(s), apply, restore });
 * await Promise.all([batcher.submit({ label: "a", mutate: (s) => void s.add("a") }), batcher.submit(...)]); // one apply
 */
export class ChangeBatcher<State> {
  readonly #options: ChangeBatcherOptions<State>;
  #applied: State;
  #pending: Pending<State>[] = [];
  #draining: Promise<void> | undefined;
  #preparing = 0;
  readonly #prepared: (() => void)[] = [];
  #closed: unknown;

  constructor(options: ChangeBatcherOptions<State>) {
    this.#options = options;
    this.#applied = options.clone(options.initial);
  }

  /** The last state applied successfully (do not mutate it). */
  get applied(): State {
    return this.#applied;
  }

  /** Whether changes are waiting or being applied. */
  get busy(): boolean {
    return this.#draining !== undefined;
  }

  /** Applies `change` with whatever else is submitted about the same time. */
  submit(change: Change<State>): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ change, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /**
   * Submits the change `prepare` resolves (after async work such as finding a
   * free port). An apply about to start waits for changes being prepared (up
   * to {@link PREPARE_WAIT_MS}), so that calls made together still share one.
   * When `prepare` throws, nothing is submitted.
   */
  async submitAfter(prepare: () => Promise<Change<State>>): Promise<void> {
    this.#preparing++;
    let change: Change<State>;
    try {
      change = await prepare();
    } finally {
      this.#preparing--;
      if (this.#preparing === 0) for (const wake of this.#prepared.splice(0)) wake();
    }
    return this.submit(change);
  }

  /** Resolves once nothing is waiting or being applied. */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  /** Refuses every change from now on, and those still waiting, with `error`; waits for the apply in flight. */
  async close(error: unknown): Promise<void> {
    this.#closed = error;
    for (const pending of this.#pending.splice(0)) pending.reject(error);
    await this.idle();
  }

  async #drain(): Promise<void> {
    // Let every change submitted in this turn (resources created with Promise.all) join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.#pending.length > 0) {
        await this.#waitForPrepared();
        await this.#applyBatch(this.#pending.splice(0));
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #waitForPrepared(): Promise<void> {
    if (this.#preparing === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#prepared.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, PREPARE_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  async #applyBatch(batch: Pending<State>[]): Promise<void> {
    let draft = this.#options.clone(this.#applied);
    const accepted: Pending<State>[] = [];
    let changed = false;
    for (const pending of batch) {
      const trial = this.#options.clone(draft);
      try {
        changed = pending.change.mutate(trial) !== false || changed;
      } catch (error) {
        pending.reject(error);
        continue;
      }
      draft = trial;
      accepted.push(pending);
    }
    if (!changed) {
      for (const pending of accepted) pending.resolve();
      return;
    }
    try {
      await this.#options.apply(draft, accepted.map((pending) => pending.change));
      this.#applied = draft;
      for (const pending of accepted) pending.resolve();
      return;
    } catch (error) {
      if (accepted.length === 1) {
        // Rejected once the previous configuration serves again, so the caller finds it serving.
        await this.#restore(error);
        accepted[0]!.reject(error);
        return;
      }
    }
    await this.#applyOneByOne(accepted);
  }

  async #applyOneByOne(changes: Pending<State>[]): Promise<void> {
    let failure: unknown;
    const failed: [Pending<State>, unknown][] = [];
    for (const pending of changes) {
      const draft = this.#options.clone(this.#applied);
      let changed: boolean;
      try {
        changed = pending.change.mutate(draft) !== false;
      } catch (error) {
        pending.reject(error);
        continue;
      }
      if (!changed) {
        pending.resolve();
        continue;
      }
      try {
        await this.#options.apply(draft, [pending.change]);
        this.#applied = draft;
        failure = undefined;
        pending.resolve();
      } catch (error) {
        failure = error;
        failed.push([pending, error]);
      }
    }
    if (failure !== undefined) await this.#restore(failure);
    for (const [pending, error] of failed) pending.reject(error);
  }

  async #restore(failure: unknown): Promise<void> {
    try {
      await this.#options.restore(this.#applied, failure);
    } catch {
      // The next apply starts from scratch anyway; `restore` reports its own failures.
    }
  }
}
