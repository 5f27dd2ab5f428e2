/**
 * The stage history entry of a state command that changes a stage (`state
 * rm`, `state unprotect`, `state import`, `state migrate` into its target,
 * `state rekey`): appended once the command's changes are written, while it
 * still holds the stage's lock, like a deploy's. A command that changed
 * nothing appends nothing.
 *
 * @module
 */
import { deployer } from "../core/last-deploy.js";
import { appendRun, keepsHistory } from "../history/stage-history.js";
import type { State, StateStore } from "../state/state-store.js";

/** What a state command tells its history entry. */
export interface CommandRun {
  /** e.g. `state rm` */
  command: string;
  /** The command line, to tell who ran it. */
  commandLine: string;
  /** When the command started (ms since the epoch). */
  startedAt: number;
}

/**
 * Appends the entry of `run` to the history of the stage whose store is
 * `stageStore`, given every record of the stage after the command. A store
 * without history is left alone. Retention: what the stage's newest entry
 * says (the program's `historyLimit`), else the default.
 *
 * @example
 * await recordCommandHistory(stageStore, records, { command: "state rm", commandLine: "alchemy state rm shop/dev/db", startedAt });
 */
export async function recordCommandHistory(stageStore: StateStore, records: readonly State[], run: CommandRun): Promise<void> {
  if (!keepsHistory(stageStore)) return;
  const meta = stageStore.getStageMeta ? await stageStore.getStageMeta() : undefined;
  await appendRun(stageStore, records, {
    command: run.command,
    by: deployer(run.commandLine),
    startedAt: run.startedAt,
    outcome: "ok",
    ...(meta === undefined ? {} : { meta }),
  });
}
