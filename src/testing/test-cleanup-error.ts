/**
 * The error a test scope fails with when it could not destroy everything its
 * test created.
 *
 * @module
 */
import { AlchemyError, type DeleteFailure } from "../core/errors.js";

/**
 * `alchemy.test` could not destroy some of what the test created: each
 * resource left behind is still in the world and in state. The next run of the
 * same test file destroys them first (see `alchemy.test`), once the cause is
 * fixed.
 *
 * @example
 * try { await alchemy.test(import.meta, fn); }
 * catch (error) { if (error instanceof TestCleanupError) console.log(error.failures.map((f) => f.fqn)); }
 */
export class TestCleanupError extends AlchemyError {
  override name = "TestCleanupError";
  constructor(
    /** The test file, relative to the working directory. */
    readonly file: string,
    /** `app/stage` of the test scope. */
    readonly stagePath: string,
    /** Every resource that was not destroyed, with its cause. */
    readonly failures: DeleteFailure[],
  ) {
    super(
      `alchemy.test could not clean up stage "${stagePath}" of ${file}: ${failures.length} resource(s) were left behind, still in the world and in state:\n` +
        failures.map((f) => `  - ${f.fqn}: ${f.error.message}`).join("\n") +
        `\nFix the cause and run ${file} again: before its first test, alchemy.test destroys what earlier runs left. ` +
        "To give up on a resource instead, delete it by hand and forget its record with `alchemy state rm <fqn>`.",
      { cause: failures[0]?.error },
    );
  }
}
