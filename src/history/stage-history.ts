/**
 * A stage's history on top of the store's history capability: appending the
 * entry of a run (with an exact snapshot of the stage's records after it),
 * retention, and reading the records as they were after any kept run.
 *
 * Each entry's snapshot holds the full manifest (fqn -> version) and the
 * record versions no earlier entry holds, so `recordsAt` is exact whatever
 * happened between runs (a run killed mid-way writes no entry, yet the next
 * entry's manifest is read from the records as they are). Pruning folds the
 * versions the oldest kept entry still needs into it before dropping older
 * ones; a version whose holder is gone is in the oldest entry left.
 *
 * @module
 */
import { StateStoreError } from "../core/errors.js";
import type { HistoryListing, StageMeta, State, StateStore } from "../state/state-store.js";
import { DEFAULT_HISTORY_LIMIT, entryOf, newRunId, type HistoryAction, type HistoryChange, type HistoryEntry, type HistoryOutcome, type HistoryResource } from "./history-entry.js";
import { recordAction, recordChanges } from "./history-changes.js";
import { decodeSnapshot, encodeSnapshot, readVersions, recordHash, versionKey, type Manifest, type RecordVersion, type Snapshot } from "./snapshot.js";

/** A store that keeps history. */
export type HistoryStore = StateStore & Required<Pick<StateStore, "appendHistory" | "listHistory" | "getHistorySnapshot" | "deleteHistory">>;

/** True when `store` offers the history capability. */
export function keepsHistory(store: StateStore): store is HistoryStore {
  return !!(store.appendHistory && store.listHistory && store.getHistorySnapshot && store.deleteHistory);
}

/** What the caller knows about a run that may have changed the stage. */
export interface HistoryRun {
  /** `deploy`, `destroy`, `state rm`, `state import`, `state migrate`, `state rekey`, `refresh`. */
  command: string;
  /** `user@host` (see `deployer`). */
  by: string;
  /** When the run started (ms since the epoch). */
  startedAt: number;
  outcome: HistoryOutcome;
  /**
   * How many entries to keep; `undefined` keeps what the newest entry says
   * (the program's `historyLimit` when it last deployed), else the default.
   * 0 appends nothing.
   */
  keep?: number;
  /** The stage's metadata after the run, kept with the snapshot so that an export at this run opens its secrets. */
  meta?: StageMeta;
  /** What the engine reported per fqn, where it knows better than a diff of records (replace, secrets' values). */
  reported?: Map<string, ReportedChange>;
}

/** What the engine reported about one resource; `changes` absent: diff the records. */
export interface ReportedChange {
  action: HistoryAction;
  /** The resource's kind. */
  kind?: string;
  changes?: HistoryChange[];
  /** The action failed. */
  failed?: boolean;
}

/**
 * Appends the entry of `run` to the stage's history, given every record of
 * the stage now (as stored: secrets sealed), then prunes to the retention.
 * Call it after the records it describes are written and before the stage
 * lock is released: its writes are fenced by that lock. Appends nothing, and
 * resolves `undefined`, when the records are exactly as the newest entry
 * left them.
 *
 * @example
 * await appendRun(stageStore, await readStageRecords(...), { command: "state rm", by, startedAt, outcome: "ok" });
 */
export async function appendRun(store: HistoryStore, records: readonly State[], run: HistoryRun): Promise<HistoryEntry | undefined> {
  const [newest] = await store.listHistory(1);
  const keep = run.keep ?? (newest ? entryOf(newest).keep : undefined) ?? DEFAULT_HISTORY_LIMIT;
  if (keep <= 0) return undefined;
  const previous = newest ? await snapshotOf(store, newest.run) : undefined;
  const now = new Map(records.map((state) => [state.fqn, { state, hash: recordHash(state) }]));
  const changed = [...now].filter(([fqn, { hash }]) => previous?.manifest.get(fqn)?.hash !== hash).map(([fqn]) => fqn);
  const removed = [...(previous?.manifest.keys() ?? [])].filter((fqn) => !now.has(fqn));
  if (changed.length === 0 && removed.length === 0) return undefined;

  const id = newRunId(Date.now(), newest?.run);
  const manifest: Manifest = new Map();
  const kept: RecordVersion[] = [];
  for (const [fqn, { state, hash }] of now) {
    const before = previous?.manifest.get(fqn);
    if (before?.hash === hash) manifest.set(fqn, before);
    else {
      manifest.set(fqn, { hash, holder: id });
      kept.push({ fqn, hash, state });
    }
  }
  // Before-versions only where the engine did not report the changes itself (they are read from older snapshots).
  const unreported = [...changed, ...removed].filter((fqn) => run.reported?.get(fqn)?.changes === undefined || !now.has(fqn));
  const beforeStates = previous ? await versionsOf(store, previous.manifest, unreported) : new Map<string, State>();
  const resources: HistoryResource[] = [...changed, ...removed].sort().map((fqn) => {
    const before = beforeStates.get(fqn);
    const after = now.get(fqn)?.state;
    const reported = run.reported?.get(fqn);
    return {
      fqn,
      kind: (after ?? before)?.kind ?? run.reported?.get(fqn)?.kind ?? "unknown",
      action: reported?.action ?? recordAction(before, after),
      changes: reported?.changes ?? recordChanges(before, after),
      ...(reported?.failed ? { failed: true as const } : {}),
    };
  });
  const entry: HistoryEntry = {
    run: id,
    command: run.command,
    by: run.by,
    at: new Date(run.startedAt).toISOString(),
    durationMs: Math.max(0, Date.now() - run.startedAt),
    outcome: run.outcome,
    keep,
    resources,
  };
  await store.appendHistory({ run: id, entry: JSON.parse(JSON.stringify(entry)) as Record<string, unknown>, snapshot: encodeSnapshot(manifest, kept, run.meta) });
  await pruneHistory(store, keep);
  return entry;
}

/**
 * Drops all but the newest `keep` entries. The oldest kept entry first takes
 * in the record versions it refers to that only dropped entries hold, so
 * every kept entry still exports exactly.
 */
export async function pruneHistory(store: HistoryStore, keep: number): Promise<number> {
  if (keep <= 0 || (await store.listHistory(keep + 1)).length <= keep) return 0;
  const all = await store.listHistory();
  const kept = all.slice(0, keep);
  const dropped = all.slice(keep).map((e) => e.run);
  const oldest = kept[kept.length - 1]!;
  const snapshot = await snapshotOf(store, oldest.run);
  const keptRuns = new Set(kept.map((e) => e.run));
  const needed = [...snapshot.manifest].filter(([, { holder }]) => !keptRuns.has(holder)).map(([fqn]) => fqn);
  if (needed.length > 0) {
    const own = readVersions(snapshot, where(store, oldest.run));
    const found = await versionsOf(store, snapshot.manifest, needed, all[all.length - 1]!.run);
    const manifest: Manifest = new Map(snapshot.manifest);
    for (const fqn of needed) {
      const hash = manifest.get(fqn)!.hash;
      own.set(versionKey(fqn, hash), { fqn, hash, state: found.get(fqn)! });
      manifest.set(fqn, { hash, holder: oldest.run });
    }
    await store.appendHistory({ run: oldest.run, entry: oldest.entry, snapshot: encodeSnapshot(manifest, own.values(), snapshot.meta) });
  }
  await store.deleteHistory(dropped);
  return dropped.length;
}

/** The stage's history entries, newest first. */
export async function listRuns(store: HistoryStore, limit?: number): Promise<HistoryEntry[]> {
  return (await store.listHistory(limit)).map(entryOf);
}

/** A stage as it was after a run. */
export interface StageAt {
  /** Every record, in fqn order. */
  records: State[];
  /** The stage's metadata then, if it had some. */
  meta?: StageMeta;
}

/**
 * The stage exactly as it was after `run`: every record, and its metadata.
 * Reads only: takes no lock and writes nothing.
 *
 * @throws StateStoreError when the stage's history has no entry `run` (it names the runs it keeps).
 */
export async function stageAt(store: HistoryStore, run: string): Promise<StageAt> {
  const bytes = await store.getHistorySnapshot(run);
  if (bytes === undefined) throw await unknownRun(store, run);
  const snapshot = decodeSnapshot(bytes, where(store, run));
  const oldest = (await store.listHistory()).at(-1)!.run;
  const states = await versionsOf(store, snapshot.manifest, [...snapshot.manifest.keys()], oldest);
  const records = [...snapshot.manifest.keys()].sort().map((fqn) => states.get(fqn)!);
  return snapshot.meta === undefined ? { records } : { records, meta: snapshot.meta };
}

/** Every record of the stage exactly as it was after `run`, in fqn order (see {@link stageAt}). */
export async function recordsAt(store: HistoryStore, run: string): Promise<State[]> {
  return (await stageAt(store, run)).records;
}

/** The entry of `run`, or a StateStoreError naming the runs there are. */
export async function entryAt(store: HistoryStore, run: string): Promise<HistoryEntry> {
  const found = (await store.listHistory()).find((e: HistoryListing) => e.run === run);
  if (!found) throw await unknownRun(store, run);
  return entryOf(found);
}

async function snapshotOf(store: HistoryStore, run: string): Promise<Snapshot> {
  const bytes = await store.getHistorySnapshot(run);
  if (bytes === undefined) throw await unknownRun(store, run);
  return decodeSnapshot(bytes, where(store, run));
}

/** The versions `manifest` names for `fqns`, read from their holders (or, for a pruned holder, from `fallback`). */
async function versionsOf(store: HistoryStore, manifest: Manifest, fqns: string[], fallback?: string): Promise<Map<string, State>> {
  let oldest = fallback;
  const byHolder = new Map<string, string[]>();
  for (const fqn of fqns) {
    const ref = manifest.get(fqn);
    if (!ref) continue;
    byHolder.set(ref.holder, [...(byHolder.get(ref.holder) ?? []), fqn]);
  }
  const out = new Map<string, State>();
  for (const [holder, names] of byHolder) {
    let bytes = await store.getHistorySnapshot(holder);
    let from = holder;
    if (bytes === undefined) {
      oldest ??= (await store.listHistory()).at(-1)?.run;
      from = oldest ?? holder;
      bytes = oldest === undefined ? undefined : await store.getHistorySnapshot(oldest);
    }
    if (bytes === undefined) throw missingVersion(store, names[0]!, holder);
    const versions = readVersions(decodeSnapshot(bytes, where(store, from)), where(store, from));
    for (const fqn of names) {
      const version = versions.get(versionKey(fqn, manifest.get(fqn)!.hash));
      if (!version) throw missingVersion(store, fqn, holder);
      out.set(fqn, version.state);
    }
  }
  return out;
}

function where(store: StateStore, run: string): string {
  return `history entry ${run} of stage ${(store as { chain?: string[] }).chain?.join("/") ?? ""}`.trim();
}

async function unknownRun(store: HistoryStore, run: string): Promise<StateStoreError> {
  const runs = (await store.listHistory()).map((e) => e.run);
  const kept = runs.length === 0 ? "The stage has no history yet." : `It keeps ${runs.length} run(s), from ${runs.at(-1)} to ${runs[0]}.`;
  return new StateStoreError(`The stage's history has no run "${run}". ${kept} List them with \`alchemy state history\`.`, run);
}

function missingVersion(store: HistoryStore, fqn: string, holder: string): StateStoreError {
  return new StateStoreError(
    `The stage's history lacks the version of ${fqn} that run ${holder} kept (an entry was removed by hand?). ` +
      `Exports at runs that need it cannot be exact; later runs are not affected.`,
    where(store, holder),
  );
}
