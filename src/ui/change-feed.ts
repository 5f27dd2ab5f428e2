/**
 * How the web UI learns that state changed while a deploy runs in another
 * process: for each thing a page watches (the overview, or one stage), one
 * poller reads a fingerprint through the stores every `intervalMs` while at
 * least one page listens, and tells every listener when it differs from the
 * last one. Stores offer no change notification, so polling is the one way
 * that works for all of them; it stops when the last page goes away.
 *
 * @module
 */

/** Reads what a page shows, reduced to a string that differs whenever the page would. */
export type Fingerprint = () => Promise<string>;

interface Watch {
  read: Fingerprint;
  listeners: Set<(version: number) => void>;
  last?: string;
  version: number;
  timer?: NodeJS.Timeout;
}

/**
 * Pollers shared by the pages that watch the same thing.
 *
 * @example
 * const feed = new ChangeFeed(400);
 * const stop = feed.listen("stage:shop/dev", () => stageFingerprint(session, "shop", "dev", access), (v) => send(v));
 * // ... later
 * stop();
 */
export class ChangeFeed {
  readonly #watches = new Map<string, Watch>();

  constructor(private readonly intervalMs: number) {}

  /** Calls `onChange` with a new version number each time `read`'s fingerprint changes; returns the function that stops listening. */
  listen(key: string, read: Fingerprint, onChange: (version: number) => void): () => void {
    let watch = this.#watches.get(key);
    if (watch === undefined) {
      watch = { read, listeners: new Set(), version: 0 };
      this.#watches.set(key, watch);
      this.#schedule(key, watch, 0);
    }
    watch.listeners.add(onChange);
    const w = watch;
    return () => {
      w.listeners.delete(onChange);
      if (w.listeners.size > 0) return;
      clearTimeout(w.timer);
      this.#watches.delete(key);
    };
  }

  /** Stops every poller. */
  close(): void {
    for (const watch of this.#watches.values()) clearTimeout(watch.timer);
    this.#watches.clear();
  }

  #schedule(key: string, watch: Watch, delay: number): void {
    watch.timer = setTimeout(() => void this.#poll(key, watch), delay);
    watch.timer.unref();
  }

  async #poll(key: string, watch: Watch): Promise<void> {
    let print: string;
    try {
      print = await watch.read();
    } catch (error) {
      print = `error: ${(error as Error).message}`; // the page fetches again and shows the error
    }
    if (this.#watches.get(key) !== watch) return; // its last listener left while it read
    if (watch.last !== undefined && print !== watch.last) {
      watch.version++;
      for (const listener of watch.listeners) listener(watch.version);
    }
    watch.last = print;
    this.#schedule(key, watch, this.intervalMs);
  }
}
