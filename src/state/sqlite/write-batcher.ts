/**
 * Group commit: writes requested in the same turn of the event loop are
 * committed together, in one transaction and one fsync.
 *
 * @module
 */

/**
 * Commits `writes` (in order) in one transaction, synchronously. Throws when
 * the transaction failed and nothing of it was committed. May instead return,
 * per write, an error for a write it left out of a transaction that committed
 * the rest (a failed precondition), or `undefined` for a committed write.
 */
export type CommitBatch<W> = (writes: readonly W[]) => readonly (Error | undefined)[] | void;

/** The error a write gets when the transaction of its batch failed with `error`. */
export type BatchFailure<W> = (write: W, error: unknown, batchSize: number) => Error;

interface Waiting<W> {
  write: W;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Collects writes and commits them in batches. A write's promise resolves
 * once the batch holding it has committed; when the batch fails, every write
 * in it rejects. The commit itself is synchronous (better-sqlite3), so no
 * write can arrive while one is being written: whatever arrives meanwhile
 * waits for the next batch.
 *
 * @example
 * const batcher = new WriteBatcher<Row>((rows) => db.transaction(() => rows.forEach(upsert)).immediate(),
 *   (row, error) => new StateStoreError(`Cannot write ${row.id}: ${error}`, row.id));
 * await Promise.all([batcher.write(a), batcher.write(b)]); // one transaction
 */
export class WriteBatcher<W> {
  readonly #commit: CommitBatch<W>;
  readonly #failure: BatchFailure<W>;
  #waiting: Waiting<W>[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  /** Batches committed or failed so far (for tests and diagnostics). */
  batches = 0;

  constructor(commit: CommitBatch<W>, failure: BatchFailure<W>) {
    this.#commit = commit;
    this.#failure = failure;
  }

  /** Writes not yet committed. */
  get pending(): number {
    return this.#waiting.length;
  }

  /** Queues `write` for the next batch; resolves once that batch has committed. */
  write(write: W): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ write, resolve, reject });
      // setImmediate rather than a microtask: callers that await between calls still join the batch.
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Commits the queued writes now, synchronously; their promises settle
   * right after. Readers call it first so they see every write already requested.
   */
  flush(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const batch = this.#waiting;
    if (batch.length === 0) return;
    this.#waiting = [];
    this.batches++;
    let outcomes: readonly (Error | undefined)[] | void;
    try {
      outcomes = this.#commit(batch.map((w) => w.write));
    } catch (error) {
      for (const w of batch) w.reject(this.#failure(w.write, error, batch.length));
      return;
    }
    batch.forEach((w, i) => {
      const refused = outcomes?.[i];
      if (refused === undefined) w.resolve();
      else w.reject(refused);
    });
  }
}
