/**
 * The clock the Cloudflare API client waits on. Injected, so that tests can
 * make every wait instant and still see exactly how long it would have been.
 *
 * @module
 */

/** Current time and a way to wait; `now()` in milliseconds, like `Date.now()`. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * The real clock: `Date.now()` and a timer. The timer keeps the process alive
 * on purpose: a run waiting out a rate limit has nothing else pending, and an
 * unreferenced timer would let Node exit in the middle of the deploy.
 *
 * @example
 * await systemClock.sleep(250);
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
