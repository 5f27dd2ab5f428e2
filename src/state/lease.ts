/**
 * A lock holder's own view of its lease, by its own monotonic clock.
 *
 * Why: a holder that is paused (SIGSTOP, a suspended laptop, a long GC) past
 * its lease loses the stage to the next run, which takes the lock over once
 * the last heartbeat is older than the lease. When the paused holder resumes,
 * it must not act on a lock it no longer has, and it cannot ask the store
 * before every step without paying a round trip per write. So it keeps the
 * lease itself: the lock counts as held until `leaseMs` minus a safety
 * margin after the START of the last heartbeat that succeeded (the
 * acquisition counts as one). A contender measures the same lease from the
 * heartbeat's END, so the holder always gives up first.
 *
 * The check is a clock read, cheap enough to make immediately before every
 * handler is started and every state write (see `core/stage-locking.ts` and
 * `fs/stage-fence.ts`).
 *
 * @module
 */

/**
 * How long before its lease runs out a holder stops acting on its lock: a
 * fifth of the lease, at most 10 s. It absorbs a difference between the
 * clock a contender reads and this process's clock (a stepped wall clock, or
 * another host's), and the time between this check and the write it guards.
 *
 * @example
 * leaseSafetyMarginMs(30_000); // 6_000
 */
export function leaseSafetyMarginMs(leaseMs: number): number {
  return Math.min(leaseMs / 5, 10_000);
}

/**
 * The lease of a lock this process holds, as its own clock sees it.
 *
 * @example
 * const started = performance.now();
 * const lock = await takeLock();
 * const lease = new Lease(30_000, started);
 * // on each heartbeat:
 * const t = performance.now(); await lock.heartbeat(); lease.renewed(t);
 * if (lease.expired()) throw lost;
 */
export class Lease {
  #confirmedAt: number;

  /**
   * @param leaseMs the lease the lock was taken with
   * @param startedAt `performance.now()` read before the acquisition began
   */
  constructor(
    readonly leaseMs: number,
    startedAt: number,
  ) {
    this.#confirmedAt = startedAt;
  }

  /** Records a heartbeat that succeeded; `startedAt` is `performance.now()` read before it began. */
  renewed(startedAt: number): void {
    this.#confirmedAt = Math.max(this.#confirmedAt, startedAt);
  }

  /** Milliseconds this holder may still act on the lock; zero or less once it must not. */
  remainingMs(now = performance.now()): number {
    return this.#confirmedAt + this.leaseMs - leaseSafetyMarginMs(this.leaseMs) - now;
  }

  /** True once this holder must treat the lock as lost. */
  expired(now = performance.now()): boolean {
    return this.remainingMs(now) <= 0;
  }

  /**
   * Why a holder whose lease {@link expired} must count its lock as lost, for
   * a `LockLostError`: `this run could not renew it for 9s, longer than its
   * lease of 5s allows (<causes>), so another run may hold it now`.
   *
   * @param causes what may have kept it from renewing
   */
  ranOutReason(causes = "the process was paused or its event loop blocked", now = performance.now()): string {
    return (
      `this run could not renew it for ${Math.round(this.silentForMs(now) / 1000)}s, longer than its lease of ${Math.round(this.leaseMs / 1000)}s allows ` +
      `(${causes}), so another run may hold it now`
    );
  }

  /** Milliseconds since the last confirmed heartbeat began. */
  silentForMs(now = performance.now()): number {
    return now - this.#confirmedAt;
  }
}
