/**
 * A stage's history in a bucket: two objects per entry under the stage's
 * prefix, `~history/<run>.json` (the entry) and `~history/<run>.snapshot`
 * (the snapshot, base64). The snapshot is PUT first and the entry last, so
 * an entry exists once its `.json` does; deletion goes the other way. Each
 * write goes through the stage's fence like a record write (see
 * `object-state-store.ts` for what that guarantees). Listing the history is
 * one listing of the prefix and one GET per entry listed.
 *
 * @module
 */
import { historyEntryText, newestFirst, parseHistoryEntry } from "../history-items.js";
import type { HistoryItem, HistoryListing } from "../state-store.js";
import type { ObjectBucket, WriteOptions } from "./object-bucket.js";
import { HISTORY_PREFIX } from "./object-layout.js";

const ENTRY = ".json";
const SNAPSHOT = ".snapshot";

/** The history of one stage, whose prefix is `stagePrefix` (with its trailing `/`). */
export class ObjectHistory {
  readonly #prefix: string;

  constructor(
    stagePrefix: string,
    private readonly bucket: () => ObjectBucket,
    private readonly fenced: (doing: string, write: (options: WriteOptions) => Promise<unknown>) => Promise<void>,
  ) {
    this.#prefix = `${stagePrefix}${HISTORY_PREFIX}`;
  }

  /** Writes `item`: its snapshot, then its entry. */
  async append(item: HistoryItem): Promise<void> {
    const text = historyEntryText(item, this.bucket().location(this.#prefix));
    const snapshot = Buffer.from(item.snapshot).toString("base64");
    await this.fenced("write a history snapshot", (options) => this.bucket().put(this.#prefix + item.run + SNAPSHOT, snapshot, options));
    await this.fenced("write a history entry", (options) => this.bucket().put(this.#prefix + item.run + ENTRY, text, options));
  }

  /** The entries, newest first. */
  async list(limit?: number): Promise<HistoryListing[]> {
    const runs: { run: string }[] = [];
    for await (const page of this.bucket().list(this.#prefix, { doing: "list the stage's history" })) {
      for (const object of page.objects) {
        const name = object.key.slice(this.#prefix.length);
        if (name.endsWith(ENTRY) && !name.includes("/")) runs.push({ run: name.slice(0, -ENTRY.length) });
      }
    }
    const chosen = newestFirst(runs, limit);
    const found = await Promise.all(chosen.map(async ({ run }) => ({ run, object: await this.bucket().get(this.#prefix + run + ENTRY, "read a history entry") })));
    return found.filter(({ object }) => object !== undefined).map(({ run, object }) => parseHistoryEntry(run, object!.text, this.bucket().location(this.#prefix + run + ENTRY)));
  }

  /** The snapshot of entry `run`, or `undefined` when there is no such entry. */
  async snapshot(run: string): Promise<Uint8Array | undefined> {
    const entry = await this.bucket().get(this.#prefix + run + ENTRY, "read a history entry");
    if (entry === undefined) return undefined;
    const found = await this.bucket().get(this.#prefix + run + SNAPSHOT, "read a history snapshot");
    return found === undefined ? undefined : new Uint8Array(Buffer.from(found.text, "base64"));
  }

  /** Removes the entries `runs`: each entry, then its snapshot. */
  async delete(runs: string[]): Promise<void> {
    for (const run of runs) {
      await this.fenced("delete a history entry", (options) => this.bucket().delete(this.#prefix + run + ENTRY, options));
      await this.fenced("delete a history snapshot", (options) => this.bucket().delete(this.#prefix + run + SNAPSHOT, options));
    }
  }
}
