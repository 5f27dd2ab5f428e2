/**
 * Fencing the writes of a stage's lock holder on a file system, where no
 * write can carry a fencing token.
 *
 * Why: a holder paused past its lease (SIGSTOP, a suspended machine) loses
 * the stage to the next run. When it resumes it must not write one more
 * file: a record file written then would silently undo the new holder's
 * write. A check of the lock before each write leaves a window between the
 * check and the write; a pause in that window is all it takes.
 *
 * How: the holder makes a directory `<stage>/~fence-<lock id>` when it takes
 * the lock, and every file operation it makes in the stage goes through it:
 * `<stage>/~fence-<id>/../backend/api.json`. The kernel resolves the `..`
 * only while the fence directory exists. Whoever takes the lock next removes
 * every other holder's fence directory before it writes anything (and
 * `alchemy unlock` removes the unlocked holder's), so from then on every
 * rename, unlink, link or create of the old holder fails with ENOENT, which
 * this module reports as the {@link LockLostError} it is. Each operation is
 * also preceded by the holder's own lease check (`../lease.ts`), so a
 * holder past its lease stops even before anyone takes over.
 *
 * Appends to the journal go to an open descriptor, not a path; the next
 * holder replaces the journal file (never truncates it), so a paused
 * holder's late appends land in a file nobody reads any more.
 *
 * Windows resolves `..` by name, so there only the lease check fences.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { StateStoreError, toError } from "../../core/errors.js";
import { LockLostError, type LockInfo } from "../stage-lock.js";
import type { Lease } from "../lease.js";
import { DIR_MODE, errorCode } from "./durable-files.js";
import { FENCE_PREFIX } from "./stage-layout.js";
import type { StageWrites } from "./stage-writes.js";


/**
 * The fence of the lock `lockId` on the stage at `stageDir`.
 *
 * @example
 * const fence = new StageFence(stageDir, "app/dev", lock.info.id, lease);
 * fence.create();
 * fence.writes.rename(temp, path.join(stageDir, "api.json")); // via ~fence-<id>/..
 */
export class StageFence {
  /** Absolute path of the fence directory. */
  readonly dir: string;
  readonly #through: string;
  /** Set once a write was refused; every later one is refused the same way. */
  #lost: LockLostError | undefined;

  constructor(
    readonly stageDir: string,
    /** `app/stage`, for messages. */
    readonly stagePath: string,
    readonly lockId: string,
    readonly lease: Lease,
    /** The stage's lock as it is now, to name who holds it in a refusal. */
    private readonly currentLock: () => LockInfo | undefined = () => undefined,
  ) {
    this.dir = path.join(stageDir, `${FENCE_PREFIX}${lockId}`);
    this.#through = `${this.dir}${path.sep}..`;
  }

  /** Makes the fence directory; the lock must already be this holder's. */
  create(): void {
    try {
      fs.mkdirSync(this.dir, { mode: DIR_MODE });
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw fenceError(this.dir, "create", error);
    }
  }

  /** Removes the fence directory (when the lock is released). */
  remove(): void {
    removeFenceDir(this.dir);
  }

  /** The error that refuses this holder's writes now, or `undefined`: its lease ran out, or its fence is gone. */
  refusal(): LockLostError | undefined {
    if (this.#lost) return this.#lost;
    if (this.lease.expired()) {
      const current = this.#current();
      this.#lost = new LockLostError(this.stagePath, this.lockId, current, current ? undefined : this.lease.ranOutReason());
    } else if (!fs.existsSync(this.dir)) {
      const current = this.#current();
      this.#lost = new LockLostError(
        this.stagePath,
        this.lockId,
        current,
        current ? undefined : `its fence ${this.dir} was removed: another run took the lock over, or it was unlocked`,
      );
    }
    return this.#lost;
  }

  /** Whoever else holds the stage's lock now, if it can be read. */
  #current(): LockInfo | undefined {
    try {
      const current = this.currentLock();
      return current?.id === this.lockId ? undefined : current;
    } catch {
      return undefined;
    }
  }

  /** The path through the fence for `target` (inside the stage directory). */
  route(target: string): string {
    if (target.startsWith(this.stageDir + path.sep)) return this.#through + target.slice(this.stageDir.length);
    if (target === this.stageDir) return this.#through;
    throw new StateStoreError(`Refusing to write ${target}: it is outside the stage directory ${this.stageDir}.`, target);
  }

  /** This holder's file operations, each checked against the lease and routed through the fence. */
  readonly writes: StageWrites = {
    open: (file, flags, mode) => this.#fenced(() => fs.openSync(this.route(file), flags, mode)),
    rename: (from, to) => this.#fenced(() => fs.renameSync(this.route(from), this.route(to))),
    unlink: (file) => this.#fenced(() => fs.unlinkSync(this.route(file))),
    link: (existing, created) => this.#fenced(() => fs.linkSync(this.route(existing), this.route(created))),
    mkdir: (dir, mode) => this.#fenced(() => fs.mkdirSync(this.route(dir), { mode })),
    rmdir: (dir) => this.#fenced(() => fs.rmdirSync(this.route(dir))),
    check: () => {
      const lost = this.refusal();
      if (lost) throw lost;
    },
  };

  #fenced<T>(operation: () => T): T {
    const lost = this.#lost ?? (this.lease.expired() ? this.refusal() : undefined);
    if (lost) throw lost;
    try {
      return operation();
    } catch (error) {
      // ENOENT is also what a missing target gives: only a missing fence means the lock is gone.
      if (errorCode(error) === "ENOENT" && this.refusal() !== undefined) throw this.#lost!;
      throw error;
    }
  }
}

/**
 * Removes the fence directories of every holder of the stage at `stageDir`
 * but `ownLockId`: from then on their writes fail. Call it once the lock is
 * yours and before writing anything. Returns the lock ids fenced off.
 *
 * @example
 * removeOtherFences("/abs/.alchemy/app/dev", myLock.info.id); // ["3f2c..."]
 */
export function removeOtherFences(stageDir: string, ownLockId: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(stageDir);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return [];
    throw fenceError(stageDir, "list", error);
  }
  const fenced: string[] = [];
  for (const name of names) {
    if (!name.startsWith(FENCE_PREFIX) || name === `${FENCE_PREFIX}${ownLockId}`) continue;
    removeFenceDir(path.join(stageDir, name));
    fenced.push(name.slice(FENCE_PREFIX.length));
  }
  return fenced;
}

/**
 * Removes the fence of the lock `lockId` on the stage at `stageDir` (when it
 * is unlocked by hand): that holder's writes fail from then on.
 *
 * @example
 * removeFence("/abs/.alchemy/app/dev", "3f2c...");
 */
export function removeFence(stageDir: string, lockId: string): void {
  removeFenceDir(path.join(stageDir, `${FENCE_PREFIX}${lockId}`));
}

function removeFenceDir(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT") return;
    // Something was put inside, or a file or link stands there: remove it without following links.
    if (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOTDIR") {
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    }
    throw fenceError(dir, "remove", error);
  }
}

function fenceError(target: string, doing: string, error: unknown): StateStoreError {
  const cause = toError(error);
  return new StateStoreError(
    `Cannot ${doing} the stage's lock fence ${target}: ${cause.message}. ` +
      "Check that the stage directory belongs to the user running alchemy (mode 0700), then run again.",
    target,
    { cause },
  );
}
