/**
 * `alchemy unlock`: releases a stage's state lock left behind by a crashed
 * run. No store implements locking yet, so for now it explains that there is
 * no lock to release.
 *
 * @module
 */
import { EXIT } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { checkName, stateDirOf } from "../state-target.js";
import type { StateCommandOptions } from "./state.js";

/**
 * Releases the lock of `opts.stage` (only the one with `opts.lockId`, when
 * given). Today the filesystem store does not lock stages: this prints so on
 * stderr and exits 0, or 1 when a `lockId` was asked for, since no lock has it.
 *
 * @throws UsageError when the stage or `--app` is not a valid name.
 * @example
 * await unlock({ state: ".alchemy", stage: "prod" }, processIO()); // 0
 */
export async function unlock(opts: StateCommandOptions & { stage: string; lockId?: string }, io: CliIO): Promise<number> {
  const stage = checkName(opts.stage, "stage", "--stage");
  const app = opts.app === undefined ? undefined : checkName(opts.app, "application", "--app");
  const dir = stateDirOf(opts, io);
  const which = app === undefined ? `stage "${stage}"` : `stage "${stage}" of app "${app}"`;
  const notEnabled = `state locking is not enabled for the filesystem store at ${dir}, so ${which} has no lock to release`;
  if (opts.lockId === undefined) {
    io.stderr.write(`${capitalize(notEnabled)}. Nothing to do.\n`);
    return EXIT.ok;
  }
  io.stderr.write(
    `error: No lock with id ${JSON.stringify(opts.lockId)}: ${notEnabled}. ` +
      `If a run seems stuck, check that no other alchemy process is deploying ${which}.\n`,
  );
  return EXIT.failed;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
