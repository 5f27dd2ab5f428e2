/**
 * Taking and holding a stage lock in PostgreSQL: polling for a lock someone
 * else holds, fencing this process's writes to the stage while it is ours,
 * and letting it go.
 *
 * @module
 */
import { LockLostError, StageLockedError, type LockInfo, type LockRequest, type StageLock } from "../stage-lock.js";
import type { DatabaseTarget } from "./connection-string.js";
import { acquireDatabase, releaseDatabase } from "./database-registry.js";
import type { StateDatabase } from "./state-database.js";

/** Shortest and longest pause before a contender looks again at a lock someone else holds. */
const POLL_MS = { min: 100, max: 250 };

/**
 * Takes the lock of stage `stagePath` (`app/stage`) in the database and
 * schema of `target`, waiting up to `request.timeoutMs` for a live holder to
 * let go; a stale lock is taken over at once (see `stage-lock-table.ts`).
 * While the lock is held, the process's pool for `target` stays open (even
 * once every store has closed) and every write to the stage through it is
 * fenced; `release` lifts the fence, frees the stage and lets the pool go.
 *
 * No transaction is held across the waits: each attempt is one to three
 * single statements.
 *
 * @throws StageLockedError naming the holder and `postgres://host/db#schema.stage_locks` when the stage stays locked for `timeoutMs`.
 * @throws StateStoreError naming the server when the database cannot be reached or read.
 * @example
 * const lock = await acquireStageLock(target, "my-app/prod", { holder, leaseMs: 30_000, timeoutMs: 0 });
 * try { ... } finally { await lock.release(); }
 */
export async function acquireStageLock(target: DatabaseTarget, stagePath: string, request: LockRequest): Promise<StageLock> {
  const [app, stage] = stagePath.split("/") as [string, string];
  const database = acquireDatabase(target);
  try {
    const started = Date.now();
    for (;;) {
      const attempt = await database.locks.tryTake(app, stage, request);
      if ("taken" in attempt) {
        database.fence(stagePath, attempt.taken.id, request.leaseMs);
        return heldLock(database, stagePath, attempt.taken, attempt.tookOverFrom);
      }
      const waited = Date.now() - started;
      if (waited >= request.timeoutMs) throw new StageLockedError(stagePath, attempt.heldBy, database.locks.location, waited);
      // Jittered, so that contenders that started together do not keep polling in step.
      const pause = POLL_MS.min + Math.random() * (POLL_MS.max - POLL_MS.min);
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, request.timeoutMs - waited)));
    }
  } catch (error) {
    await releaseDatabase(database);
    throw error;
  }
}

function heldLock(database: StateDatabase, stagePath: string, info: LockInfo, tookOverFrom: LockInfo | undefined): StageLock {
  const [app, stage] = stagePath.split("/") as [string, string];
  let released = false;
  return {
    info,
    tookOverFrom,
    async heartbeat() {
      if (released) throw new LockLostError(stagePath, info.id);
      if (await database.locks.renew(app, stage, info.id)) return;
      throw new LockLostError(stagePath, info.id, await database.locks.read(app, stage));
    },
    async release() {
      if (released) return;
      released = true;
      try {
        // The writes this process made under the lock land, still fenced, before the stage is freed.
        await database.settled();
        database.unfence(stagePath, info.id);
        await database.locks.clear(app, stage, info.id);
      } finally {
        database.unfence(stagePath, info.id);
        await releaseDatabase(database);
      }
    },
  };
}
