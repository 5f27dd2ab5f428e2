/**
 * How a run holds its stage's lock: taken before the first state read,
 * heartbeated every third of the lease, released at the end (after the stores
 * are closed). A heartbeat that finds the lock taken over halts the run.
 *
 * @module
 */
import { canLock, currentHolder, describeHolder, type StageLock } from "../state/stage-lock.js";
import type { RunContext } from "./run-context.js";
import type { Scope } from "./scope.js";

/** The lock a run holds, and how to let it go. */
export interface HeldStageLock {
  lock: StageLock;
  /** Stops heartbeating and releases the lock (if still ours). */
  release(): Promise<void>;
}

/** Whether this run locks its stage: `stateLocking`, else on for `up` and `destroy`. */
export function wantsLock(context: RunContext): boolean {
  const { stateLocking, phase } = context.options;
  return stateLocking ?? (phase === "up" || phase === "destroy");
}

/** Takes the lock of `stage` if its store can lock; `undefined` when it cannot (warned if asked for explicitly). */
export async function lockStage(stage: Scope, command: string): Promise<HeldStageLock | undefined> {
  const context = stage.context;
  const store = stage.store;
  if (!canLock(store)) {
    if (context.options.stateLocking === true) {
      context.warn(`The state store of "${stage.path}" (${store.constructor.name}) cannot lock stages; this run does not lock stage "${stage.name}".`);
    }
    return undefined;
  }
  const lock = await store.lock({ holder: currentHolder(command), leaseMs: context.options.lockLeaseMs, timeoutMs: context.options.lockTimeoutMs });
  if (lock.tookOverFrom) {
    const old = lock.tookOverFrom;
    const silentFor = Math.round((Date.now() - old.heartbeatAt.getTime()) / 1000);
    context.warn(`Took over a stale lock on stage "${stage.name}" from ${describeHolder(old.holder)} (lock id ${old.id}, no heartbeat for ${silentFor}s).`);
  }
  const timer = setInterval(() => {
    lock.heartbeat().catch((error: unknown) => {
      clearInterval(timer);
      context.fail(error instanceof Error ? error : new Error(String(error)));
    });
  }, Math.max(50, Math.floor(context.options.lockLeaseMs / 3)));
  timer.unref();
  return {
    lock,
    async release() {
      clearInterval(timer);
      await lock.release();
    },
  };
}
