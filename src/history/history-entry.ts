/**
 * What one entry of a stage's history says: which run, who ran it, when, how
 * it ended, and per resource what it did with the prop paths it changed.
 * Stores keep it as a plain JSON object ({@link HistoryItem.entry}).
 *
 * @module
 */
import type { HistoryListing } from "../state/state-store.js";

/** How a run ended. */
export type HistoryOutcome = "ok" | "failed" | "interrupted";

/** What a run did to one resource. */
export type HistoryAction = "create" | "update" | "replace" | "delete";

/** One changed prop path, secrets shown as `[secret]`. */
export interface HistoryChange {
  /** Dotted path as `alchemy plan` prints it (`bindings.KV.id`, `tags[2]`); empty for the whole value. */
  path: string;
  before?: unknown;
  after?: unknown;
}

/** What a run did to one resource. */
export interface HistoryResource {
  fqn: string;
  kind: string;
  action: HistoryAction;
  /** The prop paths it changed; empty when only the record changed (status, output, seq). */
  changes: HistoryChange[];
  /** Set when the action failed: the record says how far it got (e.g. `deleting`). */
  failed?: true;
}

/**
 * One entry of a stage's history.
 *
 * @example
 * { run: "20260102T030405123Z-9f3a", command: "deploy", by: "ada@laptop", at: "2026-01-02T03:04:01.000Z",
 *   durationMs: 4123, outcome: "ok", keep: 100,
 *   resources: [{ fqn: "app/dev/site", kind: "fs::File", action: "update", changes: [{ path: "content", before: "a", after: "b" }] }] }
 */
export interface HistoryEntry {
  /** The run's id: sortable by time, unique in the stage. */
  run: string;
  /** The command that made the change: `deploy`, `destroy`, `state rm`, `state import`, `state migrate`, `state rekey`, `refresh`. */
  command: string;
  /** Who ran it: `user@host`, or the GitHub actor under GitHub Actions. */
  by: string;
  /** When the run started (ISO 8601). */
  at: string;
  /** How long the run took, start to the entry (milliseconds). */
  durationMs: number;
  outcome: HistoryOutcome;
  /** How many entries the stage keeps (the run's `historyLimit`); later state commands prune to it too. */
  keep: number;
  resources: HistoryResource[];
}

/**
 * The entry of a listing, checked loosely: fields an older or damaged entry
 * lacks are filled so that the commands can print it.
 */
export function entryOf(listing: HistoryListing): HistoryEntry {
  const e = listing.entry as Partial<HistoryEntry>;
  return {
    run: listing.run,
    command: typeof e.command === "string" ? e.command : "unknown",
    by: typeof e.by === "string" ? e.by : "unknown",
    at: typeof e.at === "string" ? e.at : "",
    durationMs: typeof e.durationMs === "number" ? e.durationMs : 0,
    outcome: e.outcome === "failed" || e.outcome === "interrupted" ? e.outcome : "ok",
    keep: typeof e.keep === "number" ? e.keep : DEFAULT_HISTORY_LIMIT,
    resources: Array.isArray(e.resources) ? e.resources : [],
  };
}

/** How many runs a stage's history keeps unless `historyLimit` says otherwise. */
export const DEFAULT_HISTORY_LIMIT = 100;

/**
 * A run id for a run ending at `now`: the UTC time to the millisecond, then 4
 * random hex digits, e.g. `20260102T030405123Z-9f3a`. Sorts by time as text.
 * Never before `after` (the newest entry's id), so that a machine whose clock
 * runs behind still appends after it.
 *
 * @example
 * newRunId(Date.now(), newest?.run);
 */
export function newRunId(now: number, after?: string): string {
  const previous = after === undefined ? undefined : runTime(after);
  const at = previous !== undefined && previous >= now ? previous + 1 : now;
  const stamp = new Date(at).toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, "0")}`;
}

/** The time (ms since the epoch) a run id starts with, if it is one {@link newRunId} made. */
export function runTime(run: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(run);
  if (!m) return undefined;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
}
