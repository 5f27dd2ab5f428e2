/**
 * Exit codes of the `alchemy` command, the error that means "used wrongly",
 * and how a command's failures become an exit code.
 *
 * @module
 */
import { AlchemyError } from "../core/errors.js";
import type { CliIO } from "./io.js";

/** 0 success; 1 a resource or the program failed; 2 usage error, or a plan with changes under `--detailed-exitcode`; 130 stopped by Ctrl-C. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  changes: 2,
  interrupted: 130,
} as const;

/** The command line was used wrongly: exit code 2, message printed as is. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Runs a command's body (state, stages, profile commands): an engine error
 * (an `AlchemyError`: a corrupt record, an unreadable directory, a missing
 * profile) is printed to stderr and becomes exit code 1. A {@link UsageError}
 * and any other error are left to the caller.
 *
 * @example
 * return runCommandBody(io, async () => { ...; return EXIT.ok; });
 */
export async function runCommandBody(io: CliIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError || !(error instanceof AlchemyError)) throw error;
    io.stderr.write(`error: ${error.message}\n`);
    return EXIT.failed;
  }
}
