/**
 * The filesystem store's stage lock: the file `<stage dir>/~lock`.
 *
 * - Taking: the lock's JSON is written to a temp file, fsynced, then hard-linked
 *   to `~lock`; `link` fails if `~lock` exists, so exactly one contender wins.
 * - Heartbeat: the lock file's mtime is the last heartbeat (`futimes` on the
 *   file whose id was just read through the same descriptor).
 * - Stale: mtime older than the lease, or a holder on this host whose pid is
 *   gone (detected at once). Taking over renames the stale file away (only one
 *   contender's rename succeeds), checks it was the stale one, then takes the
 *   lock as above.
 * - Fencing: the holder keeps its lease by its own clock (`../lease.ts`) and
 *   writes only through its fence directory (`stage-fence.ts`), which the
 *   next holder removes; before each journal commit the lock file is also
 *   read back and its id compared with ours. `forceUnlock` removes the
 *   unlocked holder's fence too.
 * - Links: the lock file is never followed; a symbolic link in its place is
 *   an error naming it.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { StateStoreError } from "../../core/errors.js";
import { Lease } from "../lease.js";
import { isLockStale, LockLostError, StageLockedError, type LockInfo, type LockRequest, type StageLock } from "../stage-lock.js";
import { ensureDir, errorCode } from "./durable-files.js";
import { removeFence } from "./stage-fence.js";
import { LOCK_NAME } from "./stage-layout.js";
import { O_NOFOLLOW, UNFENCED } from "./stage-writes.js";

export { LOCK_NAME };

/** A lock this process took on a stage of the file-system store. */
export interface FileStageLock extends StageLock {
  /** The holder's own view of its lease, renewed by each heartbeat. */
  readonly lease: Lease;
  /** The error refusing this holder's writes when the lock file is no longer its own, else `undefined`. */
  check(): LockLostError | undefined;
}
const POLL_MS = 100;

interface LockFile {
  id: string;
  token: number;
  holder: LockInfo["holder"];
  acquiredAt: string;
  leaseMs: number;
}

/** The lock of the stage at `stageDir`, if any. */
export function readLock(stageDir: string): LockInfo | undefined {
  return readLockAt(path.join(stageDir, LOCK_NAME));
}

/** Takes the lock of the stage at `stageDir`; `check()` of the result tells whether it is still ours. */
export async function acquireLock(stageDir: string, stagePath: string, request: LockRequest): Promise<FileStageLock> {
  const file = path.join(stageDir, LOCK_NAME);
  const started = Date.now();
  let tookOverFrom: LockInfo | undefined;
  for (;;) {
    const attemptStarted = performance.now();
    const mine: LockFile = {
      id: randomUUID(),
      token: Math.max(Date.now(), (tookOverFrom?.token ?? 0) + 1),
      holder: request.holder,
      acquiredAt: new Date().toISOString(),
      leaseMs: request.leaseMs,
    };
    if (tryCreate(file, mine)) return heldLock(file, stagePath, toInfo(mine, new Date()), tookOverFrom, new Lease(request.leaseMs, attemptStarted));
    const current = readLockAt(file);
    if (current === undefined) continue; // released meanwhile
    if (isLockStale(current)) {
      if (takeOver(file, current)) tookOverFrom = current;
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= request.timeoutMs) throw new StageLockedError(stagePath, current, file, waited);
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, request.timeoutMs - waited)));
  }
}

/** Removes the lock at `stageDir` if its id is `lockId`. */
export function forceUnlock(stageDir: string, lockId: string): boolean {
  const file = path.join(stageDir, LOCK_NAME);
  const current = readLockAt(file);
  if (current?.id !== lockId) return false;
  const aside = `${file}.${lockId}.unlocked`;
  if (!renameIfPresent(file, aside)) return false;
  const moved = readLockAt(aside);
  if (moved?.id !== lockId) restore(aside, file);
  else {
    fs.rmSync(aside, { force: true });
    removeFence(stageDir, lockId); // the unlocked holder, if it still runs, can write nothing more
  }
  return moved?.id === lockId;
}

function heldLock(file: string, stagePath: string, info: LockInfo, tookOverFrom: LockInfo | undefined, lease: Lease): FileStageLock {
  const check = () => {
    const current = readLockAt(file);
    return current?.id === info.id ? undefined : new LockLostError(stagePath, info.id, current);
  };
  return {
    info,
    tookOverFrom,
    lease,
    check,
    async heartbeat() {
      const started = performance.now();
      if (lease.expired(started)) {
        throw new LockLostError(stagePath, info.id, readLockAt(file), `this run could not renew it for ${Math.round(lease.silentForMs(started) / 1000)}s, longer than its lease allows`);
      }
      // The id is read and the time set through one descriptor: a lock file put in place meanwhile is not touched.
      const fd = openLock(file);
      if (fd === undefined) throw new LockLostError(stagePath, info.id, undefined);
      try {
        const current = lockFromFd(file, fd);
        if (current.id !== info.id) throw new LockLostError(stagePath, info.id, current);
        const now = new Date();
        fs.futimesSync(fd, now, now);
      } finally {
        fs.closeSync(fd);
      }
      lease.renewed(started);
    },
    async release() {
      if (check()) return;
      const aside = `${file}.${info.id}.released`;
      if (!renameIfPresent(file, aside)) return;
      if (readLockAt(aside)?.id !== info.id) return restore(aside, file);
      fs.rmSync(aside, { force: true });
      // A destroyed stage leaves no directory behind.
      try {
        fs.rmdirSync(path.dirname(file));
      } catch {
        // Not empty: records remain.
      }
    },
  };
}

/** Creates `file` holding `lock` if it does not exist; false if it does. */
function tryCreate(file: string, lock: LockFile): boolean {
  const temp = `${file}.${lock.id}.tmp`;
  let fd: number;
  try {
    fd = fs.openSync(temp, "wx", 0o600);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
    // A new stage, or one whose directory was removed (a holder released the lock of an emptied stage).
    // The state root (<root>/<app>/<stage>) may be a link the user chose; nothing below it may.
    const stageDir = path.dirname(file);
    ensureDir(stageDir, UNFENCED, path.dirname(path.dirname(stageDir)));
    fd = fs.openSync(temp, "wx", 0o600);
  }
  try {
    fs.writeSync(fd, JSON.stringify(lock));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(temp, file);
    syncDir(path.dirname(file));
    return true;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Moves the stale lock `seen` out of the way; false if another contender got there first. */
function takeOver(file: string, seen: LockInfo): boolean {
  const aside = `${file}.${seen.id}.stale-${randomUUID()}`;
  if (!renameIfPresent(file, aside)) return false;
  const moved = readLockAt(aside);
  if (moved?.id === seen.id && isLockStale(moved)) {
    fs.rmSync(aside, { force: true });
    return true;
  }
  // We moved a live lock (taken after we looked): put it back.
  restore(aside, file);
  return false;
}

function restore(aside: string, file: string): void {
  try {
    fs.linkSync(aside, file);
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function renameIfPresent(from: string, to: string): boolean {
  try {
    fs.renameSync(from, to);
    return true;
  } catch (error) {
    if (errorCode(error) === "ENOENT") return false;
    throw error;
  }
}

function readLockAt(file: string): LockInfo | undefined {
  const fd = openLock(file);
  if (fd === undefined) return undefined;
  try {
    return lockFromFd(file, fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens the lock file without following a link; `undefined` when there is none. */
function openLock(file: string): number | undefined {
  try {
    return fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") {
      throw new StateStoreError(
        `The stage's lock file ${file} is a symbolic link. alchemy never follows links in its state directory: remove it (and check who put it there), then run again.`,
        file,
        { cause: error },
      );
    }
    throw error;
  }
}

function lockFromFd(file: string, fd: number): LockInfo {
  const mtime = fs.fstatSync(fd).mtime;
  const text = fs.readFileSync(fd, "utf8");
  try {
    return toInfo(JSON.parse(text) as LockFile, mtime);
  } catch {
    // A lock file is written whole before it is linked; an unreadable one is foreign: treat it as held by nobody known.
    return { id: "unreadable", token: 0, holder: { user: "?", host: "?", pid: 0, command: `unreadable lock file ${file}` }, acquiredAt: mtime, heartbeatAt: mtime, leaseMs: 0 };
  }
}

function toInfo(lock: LockFile, heartbeatAt: Date): LockInfo {
  return { id: lock.id, token: lock.token, holder: lock.holder, acquiredAt: new Date(lock.acquiredAt), heartbeatAt, leaseMs: lock.leaseMs };
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
