/**
 * Coalesced reads: single-key reads of one group (a scope) made in the same
 * turn of the event loop are answered by one query for all their keys.
 *
 * @module
 */

interface Waiting<Value> {
  resolve(value: Value | undefined): void;
  reject(error: unknown): void;
}

/**
 * Collects `read(group, key)` calls and loads each group's keys with one call
 * of `load` (in slices of at most `maxKeys`), on the next turn of the event loop.
 *
 * @example
 * const reads = new ReadBatcher((scope, ids) => loadBodies(scope, ids));
 * const [a, b] = await Promise.all([reads.read("app/dev", "a"), reads.read("app/dev", "b")]); // one query
 */
export class ReadBatcher<Value> {
  readonly #load: (group: string, keys: string[]) => Promise<Map<string, Value>>;
  readonly #maxKeys: number;
  #pending = new Map<string, Map<string, Waiting<Value>[]>>();
  #scheduled = false;

  /**
   * @param load the values of the `keys` of `group` that exist
   * @param maxKeys most keys one `load` is asked for
   */
  constructor(load: (group: string, keys: string[]) => Promise<Map<string, Value>>, maxKeys = 10_000) {
    this.#load = load;
    this.#maxKeys = maxKeys;
  }

  /** The value of `key` in `group`, or `undefined` when it does not exist. */
  read(group: string, key: string): Promise<Value | undefined> {
    return new Promise((resolve, reject) => {
      let keys = this.#pending.get(group);
      if (keys === undefined) this.#pending.set(group, (keys = new Map()));
      let waiting = keys.get(key);
      if (waiting === undefined) keys.set(key, (waiting = []));
      waiting.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [group, keys] of pending) {
      const all = [...keys.keys()];
      for (let start = 0; start < all.length; start += this.#maxKeys) {
        const slice = all.slice(start, start + this.#maxKeys);
        Promise.resolve().then(() => this.#load(group, slice)).then(
          (found) => slice.forEach((key) => keys.get(key)!.forEach((w) => w.resolve(found.get(key)))),
          (error: unknown) => slice.forEach((key) => keys.get(key)!.forEach((w) => w.reject(error))),
        );
      }
    }
  }
}
