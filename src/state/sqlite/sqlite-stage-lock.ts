/**
 * Taking and holding a stage lock of a SQLite state database: polling for a
 * lock someone else holds, fencing this process's writes to the stage while
 * it is ours, and letting it go.
 *
 * @module
 */
import { LockLostError, StageLockedError, type LockRequest, type StageLock } from "../stage-lock.js";
import { acquireDatabase, releaseDatabase } from "./database-registry.js";
import type { LockAttempt } from "./stage-lock-table.js";
import type { StateDatabase } from "./state-database.js";

/** How often a contender looks again at a lock someone else holds. */
const POLL_MS = 100;

/**
 * Takes the lock of stage `stagePath` (`app/stage`) in the database
 * `filename`, waiting up to `request.timeoutMs` for a live holder to let go;
 * a stale lock is taken over at once. While the lock is held, the process's
 * connection to the file stays open and every write to the stage through it
 * is fenced; `release` lifts the fence, frees the stage and lets the
 * connection go.
 *
 * No transaction is held across the waits: each attempt is one short
 * IMMEDIATE transaction.
 *
 * @throws StageLockedError naming the holder and `<file>#stage_locks` when the stage stays locked for `timeoutMs`.
 * @throws StateStoreError naming the file when the database cannot be opened or read.
 * @example
 * const lock = await acquireStageLock("/abs/state.sqlite", "my-app/prod", { holder, leaseMs: 30_000, timeoutMs: 0 });
 * try { ... } finally { await lock.release(); }
 */
export async function acquireStageLock(filename: string, stagePath: string, request: LockRequest): Promise<StageLock> {
  const [app, stage] = stagePath.split("/") as [string, string];
  const database = acquireDatabase(filename);
  try {
    const started = Date.now();
    for (;;) {
      const attempt = database.locks.tryTake(app, stage, request);
      if ("taken" in attempt) {
        database.fence(stagePath, attempt.taken.id);
        return heldLock(database, stagePath, attempt);
      }
      const waited = Date.now() - started;
      if (waited >= request.timeoutMs) throw new StageLockedError(stagePath, attempt.heldBy, database.locks.location, waited);
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, request.timeoutMs - waited)));
    }
  } catch (error) {
    releaseDatabase(database);
    throw error;
  }
}

function heldLock(database: StateDatabase, stagePath: string, { taken: info, tookOverFrom }: Extract<LockAttempt, { taken: unknown }>): StageLock {
  const [app, stage] = stagePath.split("/") as [string, string];
  let released = false;
  return {
    info,
    tookOverFrom,
    async heartbeat() {
      if (released) throw new LockLostError(stagePath, info.id);
      if (database.locks.renew(app, stage, info.id)) return;
      throw new LockLostError(stagePath, info.id, database.locks.read(app, stage));
    },
    async release() {
      if (released) return;
      released = true;
      try {
        database.unfence(stagePath, info.id);
        database.locks.clear(app, stage, info.id);
      } finally {
        releaseDatabase(database);
      }
    },
  };
}
