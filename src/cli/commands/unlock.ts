/**
 * `alchemy unlock`: releases a stage's state lock left behind by a run that
 * died or hangs. With `--lock-id` it removes only that lock; without, only a
 * stale one (lease run out, or holder process gone on this host), so that a
 * live run is never unlocked by accident. The command's profile must be
 * allowed on the stage by its `stageProfileMapping` (see `../stage-profile-check.ts`).
 *
 * @module
 */
import { canLock, describeHolder, isLockStale, type LockInfo } from "../../state/stage-lock.js";
import { describeLocation, storeFactory } from "../../state/store-url.js";
import { EXIT, runCommandBody } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { resolveApp } from "../state-access.js";
import { checkName, stateLocationOf } from "../state-target.js";
import { checkStageAccess, profileAccess } from "../stage-profile-check.js";
import type { StateCommandOptions } from "./state.js";

/**
 * Releases the lock of `opts.stage`: the one with `opts.lockId`, or without
 * it a stale one. Exit 0 when released (or there was no lock and no id was
 * asked for), 1 otherwise, with the holder shown.
 *
 * @throws UsageError when the stage or `--app` is not a valid name.
 * @example
 * await unlock({ state: ".alchemy", stage: "prod", lockId: "6f1c..." }, processIO()); // 0
 */
export async function unlock(opts: StateCommandOptions & { stage: string; lockId?: string }, io: CliIO): Promise<number> {
  const stage = checkName(opts.stage, "stage", "--stage");
  const location = stateLocationOf(opts, io);
  return runCommandBody(io, async () => {
    const app = resolveApp(location, opts.app);
    await checkStageAccess(location, app, stage, profileAccess(opts, io));
    const store = storeFactory(location)({ chain: [app, stage] });
    const where = `stage "${stage}" of app "${app}" (${describeLocation(location)})`;
    if (!canLock(store)) {
      io.stderr.write(`${capitalize(where)}: this store does not lock stages, so there is no lock to release.\n`);
      return opts.lockId === undefined ? EXIT.ok : EXIT.failed;
    }
    const lock = await store.lockInfo().finally(() => store.deinit?.());
    if (lock === undefined) {
      if (opts.lockId === undefined) {
        io.stderr.write(`${capitalize(where)} is not locked. Nothing to do.\n`);
        return EXIT.ok;
      }
      io.stderr.write(`error: No lock with id ${opts.lockId}: ${where} is not locked.\n`);
      return EXIT.failed;
    }
    if (opts.lockId !== undefined && opts.lockId !== lock.id) {
      io.stderr.write(`error: No lock with id ${opts.lockId} on ${where}; it is locked by ${held(lock)}. Nothing was released.\n`);
      return EXIT.failed;
    }
    if (opts.lockId === undefined && !isLockStale(lock)) {
      io.stderr.write(
        `error: ${capitalize(where)} is locked by ${held(lock)}, and that lock is live (heartbeat within its lease). ` +
          `If you are sure that run is gone, release it by id: alchemy unlock --stage ${stage} --lock-id ${lock.id}\n`,
      );
      return EXIT.failed;
    }
    const released = await store.forceUnlock(lock.id).finally(() => store.deinit?.());
    if (!released) {
      io.stderr.write(`error: The lock ${lock.id} on ${where} changed while releasing it; run \`alchemy unlock --stage ${stage}\` again to see the current one.\n`);
      return EXIT.failed;
    }
    io.stdout.write(`Released lock ${lock.id} on ${where}, held by ${held(lock)}.\n`);
    return EXIT.ok;
  });
}

function held(lock: LockInfo): string {
  const age = Math.round((Date.now() - lock.acquiredAt.getTime()) / 1000);
  return `${describeHolder(lock.holder)}, lock id ${lock.id}, taken ${age}s ago`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
