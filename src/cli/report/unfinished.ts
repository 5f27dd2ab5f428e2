/**
 * What a run that ended without finishing says: one error per operation left
 * pending, one for the program or the exit, and the closing line about the
 * stage lock.
 *
 * @module
 */
import type { ProcessExit } from "../run-watch.js";
import type { PendingOperation, ReportedError, RunCommandName, Unfinished } from "./outcome.js";

/** The status a record is left in by each operation that never finished. */
const LEFT: Partial<Record<string, string>> = { create: "creating", update: "updating", delete: "deleting" };

const NOTHING_TO_WAIT_ON = "and nothing was left for it to wait on (no timer, socket or file operation pending)";

/** One error per pending operation: why it never finished, and what the next run does about it. */
export function pendingErrors(pending: PendingOperation[], how: Unfinished, command: RunCommandName): ReportedError[] {
  return pending.map(({ fqn, kind, action }) => {
    const why =
      how === "stuck"
        ? `the handler of ${kind} returned a promise that never settled, ${NOTHING_TO_WAIT_ON}`
        : "the process exited while it was in flight";
    const left = LEFT[action] ? `Its record stays "${LEFT[action]}"; the next alchemy ${command} resumes it.` : `The next alchemy ${command} resumes it.`;
    const fix = how === "stuck" ? " Check what the handler awaits." : "";
    return { fqn, message: `${action} never finished: ${why}. ${left}${fix}` };
  });
}

/** The error of a program whose own top-level code never settled (no operation was pending). */
export function stuckProgramError(entry: string): ReportedError {
  return { message: `The program never finished: it awaits a promise that never settled, ${NOTHING_TO_WAIT_ON}. Check what ${entry} awaits.` };
}

/** The error of a process that exited in the middle of the run, and the exit code it ends with. */
export function exitError(exit: ProcessExit, exitCode: number): ReportedError {
  const instead = exitCode === exit.code ? "" : ` (exit code ${exitCode} instead)`;
  const message = exit.explicit
    ? `process.exit(${exit.code}) was called during the run${instead}.`
    : `The process exited with code ${exit.code} during the run${instead}.`;
  return { message, ...(exit.calledAt ? { location: exit.calledAt } : {}) };
}

/** The closing line of an unfinished run: whether the stage locks were released. */
export function unfinishedLine(how: Unfinished, lockedStages: string[]): string {
  const locks = lockedStages.length === 1 ? `The stage lock of ${lockedStages[0]}` : `The stage locks of ${lockedStages.join(", ")}`;
  if (how === "stuck") return `The run was stuck and stopped there.${lockedStages.length ? ` ${locks} ${lockedStages.length === 1 ? "is" : "are"} released.` : ""}`;
  const held =
    `${locks} ${lockedStages.length === 1 ? "is" : "are"} still held: the next run on this host takes ${lockedStages.length === 1 ? "it" : "them"} over at once, ` +
    `one on another host once the lease runs out.`;
  return `The process exited in the middle of the run.${lockedStages.length ? ` ${held}` : ""}`;
}
