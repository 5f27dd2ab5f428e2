/**
 * Fencing the writes of a stage's lock holder in DynamoDB (see
 * `dynamodb-state-store.ts` for what this does and does not guarantee).
 *
 * Every record or metadata write of the holder to its stage goes through
 * {@link DynamoDBStageFence.write}, which:
 * 1. checks the holder's own lease (`../lease.ts`: by this process's
 *    monotonic clock, minus the safety margin), here and again before every
 *    attempt the SDK makes (retries included);
 * 2. hands the write its fencing token, which the write carries as the
 *    condition `attribute_not_exists(fence) OR fence <= token` on its item;
 * 3. when DynamoDB answers that the condition failed, a holder of a later
 *    lock wrote the item: it reads the lock to say who, and the lock counts
 *    as lost.
 *
 * Once it refused a write, the fence stays lost: every later write and
 * heartbeat is refused with the same `LockLostError`. A lease that ran out
 * by this process's clock alone does not stop a heartbeat: the renewal is
 * conditional on the lock item still holding this lock's id, so it lands
 * only when no one took the lock over, and then the lease runs again.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import type { Lease } from "../lease.js";
import { LeaseFence } from "../lease-fence.js";
import { LockLostError, type LockInfo } from "../stage-lock.js";
import { isConditionFailed } from "./dynamodb-errors.js";

/** What a fenced write needs to say when its condition failed. */
export interface FenceLock {
  /** The stage's lock as it is now. */
  read(): Promise<LockInfo | undefined>;
  /** The command that deletes the lock item, for the message about a token that went back. */
  deleteCommand: string;
}

/**
 * The fence of lock `lockId` (fencing token `token`) on the stage `stagePath` (`app/stage`).
 *
 * @example
 * const fence = new DynamoDBStageFence("app/dev", lock.id, lock.token, lease, lockItem);
 * await fence.write(location, (token, guard) => table.send("write record", location, make(token), { guard }));
 */
export class DynamoDBStageFence extends LeaseFence {
  constructor(
    stagePath: string,
    lockId: string,
    readonly token: number,
    lease: Lease,
    readonly lock: FenceLock,
  ) {
    super(stagePath, lockId, lease, "DynamoDB too slow to answer");
  }

  /**
   * Runs `op` (one conditional write of the item at `location`) unless the lock counts as lost.
   *
   * @throws LockLostError when the lease ran out, or the item was written under a later lock (nothing is written).
   * @throws StateStoreError when the item carries a later token although the lock is still this holder's (the lock item went back).
   */
  write<T>(location: string, op: (token: number, guard: () => void) => Promise<T>): Promise<T> {
    return this.track(
      (async () => {
        this.throwIfLost();
        try {
          return await op(this.token, () => this.throwIfLost());
        } catch (error) {
          if (!isConditionFailed(error)) throw error;
          throw await this.#fencedOut(location, error);
        }
      })(),
    );
  }

  async #fencedOut(location: string, cause: unknown): Promise<Error> {
    const current = await this.lock.read().catch(() => undefined);
    if (current?.id === this.lockId) {
      return new StateStoreError(
        `The item ${location} was written under a fencing token above ${this.token}, the token of this run's lock ${this.lockId}, ` +
          `which still holds stage "${this.stagePath.split("/")[1]}": the stage's lock item was replaced by an older copy (restored from a backup?). Nothing was written. ` +
          `Stop this run, delete the lock item (${this.lock.deleteCommand}) and run again: the next lock takes a token above every item's.`,
        location,
        { cause },
      );
    }
    return this.lose(
      new LockLostError(
        this.stagePath,
        this.lockId,
        current,
        current ? undefined : `a later holder of the lock wrote ${location}, and the stage is unlocked now`,
      ),
    );
  }
}
