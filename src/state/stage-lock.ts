/**
 * Stage locking: the optional capability of a {@link StateStore} that keeps two
 * runs from writing one stage at once.
 *
 * Protocol every locking store keeps (checked by `describeStageLock` in
 * `alchemy/testing`):
 * - One lock per stage per store. `lock` is called on the store of the stage
 *   scope (`chain` = [app, stage]) before any record of the stage is read.
 * - Taking the lock is atomic: of any number of contenders, exactly one wins.
 *   The others wait up to `timeoutMs` (polling), then reject with a
 *   {@link StageLockedError} naming the holder.
 * - Leases: the holder calls `heartbeat` (the engine does, every third of the
 *   lease). A lock whose last heartbeat is older than its lease is stale and the
 *   next contender takes it over, reporting whom it took it from. A store that
 *   can tell that the holder's process is gone (same host, dead pid) may treat
 *   the lock as stale at once.
 * - Fencing: once a lock is taken, every write to the stage through this store
 *   (any scope of it, in this process) is checked against the lock, atomically
 *   with the write where the back end allows it. A holder whose lock was taken
 *   over gets its writes rejected with a {@link LockLostError}, and `heartbeat`
 *   rejects the same way.
 * - `release` removes the lock only if it is still this holder's;
 *   `forceUnlock(id)` removes only the lock with that id.
 *
 * @module
 */
import os from "node:os";
import { AlchemyError } from "../core/errors.js";

/** Who holds (or asks for) a lock: shown to whoever finds the stage locked. */
export interface LockHolder {
  user: string;
  host: string;
  pid: number;
  /** What the holder runs, e.g. `alchemy deploy --stage prod`. */
  command: string;
}

/** A lock as recorded in the store. */
export interface LockInfo {
  /** Unique id of this acquisition (what `alchemy unlock --lock-id` names). */
  id: string;
  /** Fencing token: grows with every acquisition of the stage's lock where the store can keep a counter. */
  token: number;
  holder: LockHolder;
  acquiredAt: Date;
  /** Last heartbeat (the acquisition counts as one). */
  heartbeatAt: Date;
  leaseMs: number;
}

/** What a run asks for. */
export interface LockRequest {
  holder: LockHolder;
  /** How long a lock stays valid without a heartbeat. */
  leaseMs: number;
  /** How long to wait for a lock someone else holds before failing; 0 tries once. */
  timeoutMs: number;
}

/** A lock this process holds. */
export interface StageLock {
  readonly info: LockInfo;
  /** Set when a stale lock was taken over: the lock that was replaced. */
  readonly tookOverFrom?: LockInfo;
  /** Renews the lease; rejects with {@link LockLostError} if the lock is no longer ours. */
  heartbeat(): Promise<void>;
  /** Removes the lock if it is still ours; never removes someone else's. */
  release(): Promise<void>;
}

/** The capability: implemented by stores that can lock the stages they hold. */
export interface StageLocking {
  /** Takes the stage's lock (this store must be the stage scope's store). */
  lock(request: LockRequest): Promise<StageLock>;
  /** The stage's current lock, if any (stale or not). */
  lockInfo(): Promise<LockInfo | undefined>;
  /** Removes the stage's lock if its id is `lockId`; resolves whether it did. */
  forceUnlock(lockId: string): Promise<boolean>;
}

/** True when `store` offers {@link StageLocking}. */
export function canLock<T extends object>(store: T): store is T & StageLocking {
  const s = store as Partial<StageLocking>;
  return typeof s.lock === "function" && typeof s.lockInfo === "function" && typeof s.forceUnlock === "function";
}

/** This process as a lock holder running `command`. */
export function currentHolder(command: string): LockHolder {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? "unknown";
  }
  return { user, host: os.hostname(), pid: process.pid, command };
}

/** True when `lock` missed its lease, or its holder is a process of this host that is gone. */
export function isLockStale(lock: LockInfo, now = Date.now()): boolean {
  if (now - lock.heartbeatAt.getTime() > lock.leaseMs) return true;
  if (lock.holder.host !== os.hostname()) return false;
  try {
    process.kill(lock.holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "EPERM";
  }
}

/** `alice@build-7 pid 4242 (alchemy deploy --stage prod)` */
export function describeHolder(holder: LockHolder): string {
  return `${holder.user}@${holder.host} pid ${holder.pid} (${holder.command})`;
}

/** Another run holds the stage's lock. */
export class StageLockedError extends AlchemyError {
  override name = "StageLockedError";
  constructor(
    /** `app/stage` */
    readonly stagePath: string,
    readonly lock: LockInfo,
    /** Where the lock lives: a file, a database table. */
    readonly location: string,
    waitedMs: number,
  ) {
    const stage = stagePath.split("/")[1];
    const age = Math.round((Date.now() - lock.acquiredAt.getTime()) / 1000);
    const beat = Math.round((Date.now() - lock.heartbeatAt.getTime()) / 1000);
    super(
      `State for stage "${stage}" is locked by another process: ${describeHolder(lock.holder)}, lock id ${lock.id}, ` +
        `taken ${age}s ago, last heartbeat ${beat}s ago (lease ${Math.round(lock.leaseMs / 1000)}s), at ${location}` +
        `${waitedMs > 0 ? `; waited ${Math.round(waitedMs / 1000)}s` : ""}. ` +
        `Wait for that run to finish (or pass --lock-timeout), or, if it is gone, run \`alchemy unlock --stage ${stage} --lock-id ${lock.id}\`; ` +
        `a lock whose holder stops heartbeating is taken over after its lease.`,
    );
  }
}

/** This run's lock was taken over by another run: its writes are refused. */
export class LockLostError extends AlchemyError {
  override name = "LockLostError";
  constructor(
    /** `app/stage` */
    readonly stagePath: string,
    readonly lockId: string,
    /** Who holds the stage now, if known. */
    readonly current?: LockInfo,
    /** Why this run counts its lock as lost when the store does not say so (yet), e.g. its lease ran out unrenewed. */
    readonly reason?: string,
  ) {
    super(
      `Lost the lock ${lockId} on stage "${stagePath.split("/")[1]}" (${stagePath}): ` +
        (reason ?? (current ? `${describeHolder(current.holder)} holds it now (lock id ${current.id})` : "it is no longer held")) +
        ". This run's state writes are refused and it stops; nothing more is created, updated or deleted. " +
        "Check the other run, then run again.",
    );
  }
}
