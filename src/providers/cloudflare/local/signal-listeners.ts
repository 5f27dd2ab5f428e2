/**
 * Miniflare, when it starts, listens for SIGINT and SIGTERM itself: it stops
 * workerd and exits the process at once (130, 143). The engine stops on those
 * signals its own way (operations in flight finish and are recorded, `alchemy
 * dev` shuts the runtime down and exits 0), so the listeners Miniflare adds
 * are taken off again. Its `exit` listener stays: whatever ends the process,
 * workerd goes with it.
 *
 * @module
 */

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Runs `start` (which makes a Miniflare), then removes the SIGINT and SIGTERM listeners it added. */
export function withoutNewSignalListeners<T>(start: () => T): T {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  try {
    return start();
  } finally {
    for (const signal of SIGNALS) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener as (...args: unknown[]) => void);
      }
    }
  }
}
