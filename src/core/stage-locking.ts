/**
 * How a run holds its stage's lock: taken before the first state read,
 * heartbeated every third of the lease, released at the end (after the stores
 * are closed). A heartbeat that finds the lock taken over halts the run.
 *
 * The run also keeps the lease by its own clock (`state/lease.ts`): right
 * before any handler starts, it checks that its last successful heartbeat
 * is recent enough that no other run can have taken the lock over. A run
 * that was paused (SIGSTOP, a suspended machine) past its lease stops
 * there, with the LockLostError, instead of creating, updating or deleting
 * anything on a stage another run may hold now.
 *
 * @module
 */
import { Lease } from "../state/lease.js";
import { canLock, currentHolder, describeHolder, LockLostError, type StageLock } from "../state/stage-lock.js";
import type { RunContext } from "./run-context.js";
import type { Scope } from "./scope.js";

/** The lock a run holds, and how to let it go. */
export interface HeldStageLock {
  lock: StageLock;
  /** The run's own view of the lease, renewed by each heartbeat that succeeds. */
  lease: Lease;
  /** Stops heartbeating and releases the lock (if still ours). */
  release(): Promise<void>;
}

/** Whether this run locks its stage: `stateLocking`, else on for `up`, `destroy` and `refresh` (the phases that write records). */
export function wantsLock(context: RunContext): boolean {
  const { stateLocking, phase } = context.options;
  return stateLocking ?? (phase === "up" || phase === "destroy" || phase === "refresh");
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
  // The lease counts from a heartbeat begun after the lock was taken (however long taking it waited).
  const leaseMs = context.options.lockLeaseMs;
  const confirmed = performance.now();
  try {
    await lock.heartbeat();
  } catch (error) {
    await lock.release().catch(() => undefined);
    throw error;
  }
  const lease = new Lease(leaseMs, confirmed);
  context.stageLease = () => {
    if (!lease.expired()) return undefined;
    return new LockLostError(stage.path, lock.info.id, undefined, lease.ranOutReason());
  };
  const timer = setInterval(() => {
    const started = performance.now();
    lock.heartbeat().then(
      () => lease.renewed(started),
      (error: unknown) => {
        clearInterval(timer);
        context.fail(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }, Math.max(50, Math.floor(leaseMs / 3)));
  timer.unref();
  return {
    lock,
    lease,
    async release() {
      clearInterval(timer);
      context.stageLease = undefined;
      await lock.release();
    },
  };
}
