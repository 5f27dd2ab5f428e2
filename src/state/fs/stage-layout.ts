/**
 * The names alchemy reserves in a stage directory of the file-system store.
 * Each starts with `~`, which no record id or scope name may contain, so
 * none can be taken for a record (`<id>.json`) or a scope (a directory).
 *
 * ```
 * ~journal          write-ahead journal of the stage (journal.ts)
 * ~lock             the stage's lock (file-lock.ts)
 * ~fence-<lock id>  the lock holder's fence (stage-fence.ts)
 * ~stage.json       the stage's metadata (stage-meta-file.ts)
 * ~history/         the stage's history (history-files.ts)
 * ```
 *
 * @module
 */

/** Name of the journal file in a stage directory. */
export const JOURNAL_NAME = "~journal";
/** Name of the lock file in a stage directory. */
export const LOCK_NAME = "~lock";
/** Prefix of a fence directory's name in a stage directory. */
export const FENCE_PREFIX = "~fence-";
/** Name of the metadata file in a stage directory. */
export const STAGE_META_NAME = "~stage.json";
