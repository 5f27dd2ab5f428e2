/**
 * What the fences of the stores whose lock is an object or an item (the
 * object stores, DynamoDB) share: a holder's writes are refused once its
 * own lease ran out by this process's clock, or once the fence was found
 * lost; the first loss wins and refuses every later write and heartbeat;
 * and the writes started through the fence are tracked, so that a release
 * can wait for them to land before it frees the stage.
 *
 * @module
 */
import type { Lease } from "./lease.js";
import { LockLostError } from "./stage-lock.js";

/**
 * The lease-and-loss part of the fence of lock `lockId` on the stage
 * `stagePath` (`app/stage`); a store's fence adds how it checks a write.
 *
 * @example
 * class MyFence extends LeaseFence {
 *   write<T>(op: () => Promise<T>): Promise<T> {
 *     return this.track((async () => (this.throwIfLost(), op()))());
 *   }
 * }
 */
export abstract class LeaseFence {
  #lost: LockLostError | undefined;
  readonly #writes = new Set<Promise<unknown>>();

  constructor(
    readonly stagePath: string,
    readonly lockId: string,
    readonly lease: Lease,
    /** What else than a pause could have kept the holder from renewing, for the message: "DynamoDB too slow to answer". */
    private readonly slowCause: string,
  ) {}

  /** The error that refuses this holder's writes now, or `undefined`. */
  refusal(): LockLostError | undefined {
    if (this.#lost === undefined && this.lease.expired()) {
      const reason = this.lease.ranOutReason(`the process was paused, its event loop blocked, or ${this.slowCause}`);
      this.lose(new LockLostError(this.stagePath, this.lockId, undefined, reason));
    }
    return this.#lost;
  }

  /** The error this fence already refused a write with, if any (without judging the lease now). */
  get lost(): LockLostError | undefined {
    return this.#lost;
  }

  /** Marks the lock lost with `error` (the first loss wins) and returns the error to throw. */
  lose(error: LockLostError): LockLostError {
    this.#lost ??= error;
    return this.#lost;
  }

  /** Resolves once every write started through the fence has landed or failed. */
  async settled(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }

  /** Throws the {@link refusal}, if any. */
  protected throwIfLost(): void {
    const refusal = this.refusal();
    if (refusal !== undefined) throw refusal;
  }

  /** Tracks `written` until it settles, for {@link settled}; returns it. */
  protected track<T>(written: Promise<T>): Promise<T> {
    this.#writes.add(written);
    const forget = () => void this.#writes.delete(written);
    written.then(forget, forget);
    return written;
  }
}
