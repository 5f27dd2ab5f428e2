/**
 * Fencing the writes of a stage's lock holder in a bucket, where a write
 * cannot be made conditional on another object (see `object-state-store.ts`
 * for what this does and does not guarantee).
 *
 * Every record or metadata write of the holder to its stage goes through
 * {@link ObjectStageFence.write}, which:
 * 1. checks the holder's own lease (`../lease.ts`, by this process's
 *    monotonic clock, minus the safety margin);
 * 2. reads the lock object and checks that it still holds this lock's id
 *    (a takeover or `alchemy unlock` replaces it); concurrent writes share
 *    one read, as long as it began after they were asked for;
 * 3. checks the lease again, then sends the write, checking the lease once
 *    more before every attempt the API client makes (retries included).
 *
 * Once a check fails the fence stays lost: every later write and heartbeat
 * is refused with the same `LockLostError`.
 *
 * @module
 */
import type { Lease } from "../lease.js";
import { LeaseFence } from "../lease-fence.js";
import { LockLostError } from "../stage-lock.js";
import { parseLock } from "./lock-document.js";
import type { ObjectBucket } from "./object-bucket.js";

/**
 * The fence of lock `lockId` on the stage `stagePath` (`app/stage`).
 *
 * @example
 * const fence = new ObjectStageFence(bucket, lockKey, "app/dev", lock.info.id, lease);
 * await fence.write((guard) => bucket.put(key, text, { doing: "write record", guard }));
 */
export class ObjectStageFence extends LeaseFence {
  /** The lock read in flight, if any. */
  #reading: Promise<void> | undefined;
  /** The lock read that starts once the one in flight ends; joined by writes asked for meanwhile. */
  #nextRead: Promise<void> | undefined;

  constructor(
    readonly bucket: ObjectBucket,
    readonly lockKey: string,
    stagePath: string,
    lockId: string,
    lease: Lease,
  ) {
    super(stagePath, lockId, lease, "the storage API too slow to answer");
  }

  /**
   * Runs `op` (one write) once the lock was confirmed to be this holder's;
   * `op` passes `guard` to the request so that each attempt checks the lease.
   *
   * @throws LockLostError when the lease ran out or the lock is another's (nothing is written).
   */
  write<T>(op: (guard: () => void) => Promise<T>): Promise<T> {
    return this.track(
      (async () => {
        await this.#confirm();
        this.throwIfLost();
        return op(() => this.throwIfLost());
      })(),
    );
  }

  /** A read of the lock object that began after this call. */
  #confirm(): Promise<void> {
    this.throwIfLost();
    if (this.#reading === undefined) {
      const reading = this.#readLock().finally(() => {
        if (this.#reading === reading) this.#reading = undefined;
      });
      this.#reading = reading;
      return reading;
    }
    this.#nextRead ??= this.#reading
      .catch(() => undefined)
      .then(() => {
        this.#nextRead = undefined;
        return this.#confirm();
      });
    return this.#nextRead;
  }

  async #readLock(): Promise<void> {
    const stage = this.stagePath.split("/")[1];
    const current = await this.bucket.get(this.lockKey, `check the lock of stage "${stage}" before a write`);
    const place = { location: this.bucket.location(this.lockKey), deleteCommand: this.bucket.deleteCommand(this.lockKey) };
    const document = current === undefined ? undefined : parseLock(current.text, place, this.stagePath);
    if (document?.info?.id === this.lockId) return;
    throw this.lose(
      new LockLostError(
        this.stagePath,
        this.lockId,
        document?.info,
        document?.info ? undefined : `the lock object ${this.bucket.location(this.lockKey)} no longer holds it: the stage was unlocked`,
      ),
    );
  }
}
