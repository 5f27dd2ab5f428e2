/**
 * Group commit: writes submitted in the same turn of the event loop, or while
 * a batch is being committed, go to the database together as one batch.
 *
 * @module
 */

/** Limits of one batch; the writes beyond them wait for the next. */
export interface WriteBatcherLimits {
  /**
   * Most writes in one batch.
   * @default 10_000
   */
  maxWrites?: number;
  /**
   * Most bytes (as given by `submit`) in one batch; a single larger write still goes alone.
   * @default 32 MiB
   */
  maxBytes?: number;
}

/** What {@link WriteBatcher} needs: how to commit a batch, and what error each write of a failed batch gets. */
export interface WriteBatcherOptions<Write> extends WriteBatcherLimits {
  /** Commits every write of `batch` atomically (one statement or transaction). Keys in a batch are distinct. */
  commit(batch: Write[]): Promise<void>;
  /**
   * The error a write of a failed batch rejects with.
   * @default the error `commit` threw
   */
  failure?(error: unknown, write: Write): unknown;
}

interface Pending<Write> {
  key: string;
  write: Write;
  bytes: number;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Collects writes and commits them in batches, one batch at a time, in the
 * order they were submitted. Within a batch only the last write of a key is
 * sent (the batch is atomic, so the earlier ones could never be seen); later
 * batches start after earlier ones end, so the last write of a key wins. Each
 * `submit` resolves once its batch is committed and rejects if it failed.
 *
 * @example
 * const batcher = new WriteBatcher<Row>({ commit: (rows) => upsertAll(rows) });
 * await Promise.all(rows.map((row) => batcher.submit(row.key, row, row.body.length)));
 */
export class WriteBatcher<Write> {
  readonly #options: WriteBatcherOptions<Write>;
  readonly #maxWrites: number;
  readonly #maxBytes: number;
  #queue: Pending<Write>[] = [];
  #head = 0;
  #scheduled = false;
  #committing = false;
  /** Writes submitted, and writes whose batch has ended, since the start. */
  #submitted = 0;
  #finished = 0;
  #waiters: { until: number; resolve(): void }[] = [];

  constructor(options: WriteBatcherOptions<Write>) {
    this.#options = options;
    this.#maxWrites = options.maxWrites ?? 10_000;
    this.#maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  }

  /** Queues `write` of `key` for the next batch; resolves once that batch is committed. */
  submit(key: string, write: Write, bytes = 0): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ key, write, bytes, resolve, reject });
      this.#submitted++;
      if (!this.#committing && !this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#next();
        });
      }
    });
  }

  /** Resolves once every write submitted before this call has been committed or has failed. */
  settled(): Promise<void> {
    const until = this.#submitted;
    if (this.#finished >= until) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ until, resolve }));
  }

  /** Number of writes submitted and not yet committed or failed. */
  get pending(): number {
    return this.#submitted - this.#finished;
  }

  #next(): void {
    if (this.#committing || this.#head === this.#queue.length) return;
    const taken = this.#take();
    const latest = new Map<string, Write>();
    for (const entry of taken) {
      latest.delete(entry.key); // keeps the map in order of each key's last write
      latest.set(entry.key, entry.write);
    }
    this.#committing = true;
    let commit: Promise<void>;
    try {
      commit = this.#options.commit([...latest.values()]);
    } catch (error) {
      commit = Promise.reject(error);
    }
    commit.then(
      () => taken.forEach((entry) => entry.resolve()),
      (error: unknown) => {
        const failure = this.#options.failure;
        taken.forEach((entry) => entry.reject(failure ? failure(error, entry.write) : error));
      },
    ).finally(() => {
      this.#committing = false;
      this.#finished += taken.length;
      this.#wake();
      this.#next();
    });
  }

  /** The oldest writes that fit the limits (at least one). */
  #take(): Pending<Write>[] {
    let end = this.#head;
    let bytes = 0;
    while (end < this.#queue.length && end - this.#head < this.#maxWrites) {
      const next = this.#queue[end]!.bytes;
      if (end > this.#head && bytes + next > this.#maxBytes) break;
      bytes += next;
      end++;
    }
    const taken = this.#queue.slice(this.#head, end);
    this.#head = end;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head); // under steady load the queue never drains
      this.#head = 0;
    }
    return taken;
  }

  #wake(): void {
    const ready = this.#waiters.filter((w) => w.until <= this.#finished);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.until > this.#finished);
    ready.forEach((w) => w.resolve());
  }
}
