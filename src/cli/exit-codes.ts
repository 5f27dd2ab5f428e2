/**
 * Exit codes of the `alchemy` command, and the error that means "used wrongly".
 *
 * @module
 */

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
