/**
 * The filesystem store's stage lock: the file `<stage dir>/~lock`.
 *
 * - Taking: the lock's JSON is written to a temp file, fsynced, then hard-linked
 *   to `~lock`; `link` fails if `~lock` exists, so exactly one contender wins.
 * - Heartbeat: the lock file's mtime is the last heartbeat (`utimes`).
 * - Stale: mtime older than the lease, or a holder on this host whose pid is
 *   gone (detected at once). Taking over renames the stale file away (only one
 *   contender's rename succeeds), checks it was the stale one, then takes the
 *   lock as above.
 * - Fencing: before each journal commit the lock file is read back and its id
 *   compared with ours. This is a check, not an atomic condition: a takeover
 *   landing between the check and the write lets that one batch through.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { isLockStale, LockLostError, StageLockedError, type LockInfo, type LockRequest, type StageLock } from "../stage-lock.js";
import { errorCode } from "./durable-files.js";

export const LOCK_NAME = "~lock";
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
export async function acquireLock(stageDir: string, stagePath: string, request: LockRequest): Promise<StageLock & { check(): LockLostError | undefined }> {
  const file = path.join(stageDir, LOCK_NAME);
  const started = Date.now();
  let tookOverFrom: LockInfo | undefined;
  for (;;) {
    const mine: LockFile = {
      id: randomUUID(),
      token: Math.max(Date.now(), (tookOverFrom?.token ?? 0) + 1),
      holder: request.holder,
      acquiredAt: new Date().toISOString(),
      leaseMs: request.leaseMs,
    };
    if (tryCreate(file, mine)) return heldLock(file, stagePath, toInfo(mine, new Date()), tookOverFrom);
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
  else fs.rmSync(aside, { force: true });
  return moved?.id === lockId;
}

function heldLock(file: string, stagePath: string, info: LockInfo, tookOverFrom: LockInfo | undefined): StageLock & { check(): LockLostError | undefined } {
  const check = () => {
    const current = readLockAt(file);
    return current?.id === info.id ? undefined : new LockLostError(stagePath, info.id, current);
  };
  return {
    info,
    tookOverFrom,
    check,
    async heartbeat() {
      const lost = check();
      if (lost) throw lost;
      const now = new Date();
      fs.utimesSync(file, now, now);
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
    // The stage directory was removed (a holder released the lock of an emptied stage).
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
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
  let text: string;
  let mtime: Date;
  try {
    text = fs.readFileSync(file, "utf8");
    mtime = fs.statSync(file).mtime;
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
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
