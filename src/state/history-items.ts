/**
 * Checks every store makes on a stage's history items ({@link HistoryItem}),
 * so that all accept and reject exactly the same run ids and entries, and the
 * text they keep an entry as. The engine's side of history (what an entry
 * says, snapshots, retention) is in `src/history/`.
 *
 * @module
 */
import { StateStoreError } from "../core/errors.js";
import { parseStageMeta, stageMetaProblem } from "./stage-meta.js";
import type { HistoryItem, HistoryListing } from "./state-store.js";

const RUN_ID = /^[0-9A-Za-z][0-9A-Za-z-]{0,79}$/;

/**
 * What keeps `run` from naming a history entry, or `undefined` when it is
 * 1 to 80 letters, digits and `-` (not first): safe as a file name, a key and a row id.
 *
 * @example
 * historyRunProblem("20260102T030405123Z-ab12"); // undefined
 * historyRunProblem("../x"); // "is \"../x\": use letters, digits and - only"
 */
export function historyRunProblem(run: unknown): string | undefined {
  if (typeof run !== "string") return `is ${typeof run}, not a string`;
  return RUN_ID.test(run) ? undefined : `is ${JSON.stringify(run)}: use 1 to 80 letters, digits and - (not first) only`;
}

/**
 * Checks a history item before a store writes it, and returns its entry's JSON text.
 *
 * @throws StateStoreError naming `location` when the run id, the entry or the snapshot is not what a store can keep; nothing is written then.
 * @example
 * const text = historyEntryText(item, "memory:app/dev#history");
 */
export function historyEntryText(item: HistoryItem, location: string): string {
  const refuse = (what: string) =>
    new StateStoreError(`Refusing to write a history entry at ${location}: ${what}. This is a bug in the caller; nothing was written.`, location);
  const runProblem = historyRunProblem(item.run);
  if (runProblem !== undefined) throw refuse(`its run id ${runProblem}`);
  const entryProblem = stageMetaProblem(item.entry);
  if (entryProblem !== undefined) throw refuse(`its entry ${entryProblem.replace(/^meta/, "entry")}`);
  if (!(item.snapshot instanceof Uint8Array)) throw refuse("its snapshot is not a Uint8Array");
  return JSON.stringify(item.entry);
}

/**
 * Checks a run id given to a reading or deleting call.
 *
 * @throws StateStoreError naming `location` when it is not a run id.
 */
export function assertHistoryRun(run: unknown, location: string): asserts run is string {
  const problem = historyRunProblem(run);
  if (problem !== undefined) throw new StateStoreError(`No history entry can be named by a run id that ${problem}.`, location);
}

/**
 * The entry a store kept as `text` for `run`.
 *
 * @throws StateStoreError naming `location` when the text is not the JSON of an object; nothing is changed.
 */
export function parseHistoryEntry(run: string, text: unknown, location: string): HistoryListing {
  return { run, entry: parseStageMeta(text, `${location} (history entry ${run})`, "Restore it from a backup, or remove the entry (deleteHistory): the stage's records are not affected.") };
}

/**
 * Listings sorted newest first (greatest run id first) and cut to `limit`.
 *
 * @example
 * newestFirst([{ run: "a", entry: {} }, { run: "b", entry: {} }], 1); // [{ run: "b", ... }]
 */
export function newestFirst<T extends { run: string }>(items: T[], limit?: number): T[] {
  const sorted = [...items].sort((a, b) => (a.run < b.run ? 1 : a.run > b.run ? -1 : 0));
  return limit === undefined ? sorted : sorted.slice(0, Math.max(0, limit));
}

/** The error for a history call on a store that is not a stage scope's. */
export function notAStageHistory(doing: string, chain: readonly string[], location: string): StateStoreError {
  const example = JSON.stringify([chain[0] ?? "my-app", chain[1] ?? "dev"]);
  return new StateStoreError(
    `Cannot ${doing} "${chain.join("/") || "/"}": history belongs to the store of a stage scope (app/stage). ` +
      `Call it on the store created for the stage's chain, e.g. { chain: ${example} }.`,
    location,
  );
}
