/**
 * Applies acknowledged changes to record files, one batch after another, on
 * the calling thread in slices of a few milliseconds, so that a large batch
 * (thousands of files, each an inode allocation or a recycled spare and a
 * rename) never holds up the event loop: handlers, lock heartbeats and new
 * commits run between slices.
 *
 * It used to hand large batches to a worker thread. Recycling replaced files
 * (`spare-files.ts`) made the writes cheap enough that the thread's own cost,
 * about 45 MB of memory, was no longer worth it.
 *
 * @module
 */
import type { DirtyPaths } from "./durable-files.js";
import { applyRecordChanges, type RecordChange } from "./record-changes.js";
import { SpareFiles } from "./spare-files.js";
import type { StageWrites } from "./stage-writes.js";

export type { RecordChange };

/**
 * Writes record files under one stage directory, one batch after another.
 *
 * @example
 * const writer = new RecordWriter("/abs/.alchemy/app/dev", new DirtyPaths(), fence.writes);
 * await writer.apply([{ file: "/abs/.alchemy/app/dev/api.json", text: "{...}\n" }]);
 * await writer.close();
 */
export class RecordWriter {
  #tail: Promise<void> = Promise.resolve();
  readonly #spares: SpareFiles;

  constructor(
    readonly stageDir: string,
    /** Where written paths are recorded until a checkpoint makes them durable. */
    readonly dirty: DirtyPaths,
    /** How files are changed: the stage lock holder's fenced operations. */
    writes: StageWrites,
    /** Whether replaced files are recycled. */
    recycle = true,
  ) {
    this.#spares = new SpareFiles(writes, undefined, recycle);
  }

  /** Applies `changes` after every batch given before; rejects on the first failure. */
  apply(changes: RecordChange[]): Promise<void> {
    return this.#then(() => applyRecordChanges(changes, this.stageDir, this.dirty, this.#spares));
  }

  /** Settles once every batch given so far is applied. */
  idle(): Promise<void> {
    return this.#tail;
  }

  /**
   * Removes the spare files kept for recycling (see `spare-files.ts`), after
   * every batch given so far; their directories become dirty.
   */
  dropSpares(): Promise<void> {
    return this.#then(() => this.#spares.dropAll(this.dirty));
  }

  /** Waits for pending batches and removes the spares. */
  async close(): Promise<void> {
    await this.dropSpares().catch(() => undefined);
  }

  #then(step: () => void | Promise<void>): Promise<void> {
    const result = this.#tail.then(step);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
