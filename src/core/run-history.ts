/**
 * The stage history entry of a run of the engine (deploy, destroy, and the
 * orphan clean-up a deploy does; `refresh` too): written at the end of the
 * run, after every record it describes and before the stage lock is
 * released, so a crash never leaves an entry for changes that did not happen.
 * A run that changed no record appends nothing (plan and read never do). A
 * run that empties the stage in every store (a destroy, usually) removes its
 * history instead, with its metadata: a destroyed stage leaves nothing behind.
 *
 * @module
 */
import { redactChanges } from "../history/history-changes.js";
import type { HistoryOutcome } from "../history/history-entry.js";
import { appendRun, keepsHistory, type ReportedChange } from "../history/stage-history.js";
import type { HistoryEntry } from "../history/history-entry.js";
import type { State } from "../state/state-store.js";
import type { RunEvent } from "./events.js";
import { deployer } from "./last-deploy.js";
import type { Scope } from "./scope.js";
import { childNames } from "./tree.js";
import { needsSealing } from "./secrets/secret-codec.js";

/** What the end of a run knows about it. */
export interface EngineRun {
  /** `deploy`, `destroy` or `refresh`. */
  command: string;
  /** The command line, to tell who ran it (see `deployer`). */
  commandLine: string;
  /** When the run started (ms since the epoch). */
  startedAt: number;
  outcome: HistoryOutcome;
  /** The run's finished events (`RunContext.events`). */
  events: readonly RunEvent[];
  /** The run's `historyLimit`. */
  keep: number;
}

/**
 * Appends the history entry of a run of the engine on `stage`, if the stage's
 * store keeps history and the run may have changed a record. Resolves the
 * entry, or `undefined` when nothing was appended. `alchemy refresh` calls it
 * like deploy does, with `command: "refresh"`.
 *
 * @example
 * await recordRunHistory(app.stage, { command: "refresh", commandLine, startedAt, outcome: "ok", events: app.events, keep: 100 });
 */
export async function recordRunHistory(stage: Scope, run: EngineRun): Promise<HistoryEntry | undefined> {
  const store = stage.store;
  // A refresh records what it found without resource events: only its records can tell.
  if (run.keep <= 0 || !keepsHistory(store) || (run.command !== "refresh" && !mayHaveChanged(run.events))) return undefined;
  const records = await storedRecords(stage);
  if (records.length === 0 && store.getStageMeta && (await store.getStageMeta()) === undefined) {
    // The run emptied the stage and its metadata is gone (see last-deploy.ts): a destroyed stage leaves nothing behind, its history neither.
    await store.deleteHistory((await store.listHistory()).map((e) => e.run));
    return undefined;
  }
  return appendRun(store, records, {
    command: run.command,
    by: deployer(run.commandLine),
    startedAt: run.startedAt,
    outcome: run.outcome,
    keep: run.keep,
    reported: reported(run.events),
    ...(store.getStageMeta ? { meta: await store.getStageMeta() } : {}),
  });
}

/** False when no event says a record may have changed: a no-op run then costs no read at all. */
function mayHaveChanged(events: readonly RunEvent[]): boolean {
  return events.some(
    (e) => (e.status === "done" || e.status === "failed") && ((e.action !== "noop" && e.action !== "read") || (e.recorded?.length ?? 0) > 0),
  );
}

/**
 * Every record under `stage` as its store holds it (secrets sealed), across
 * nested and resource scopes. The run's view of a scope's records is the
 * stored one except for records holding secrets (opened in the view), which
 * are read again from the store.
 */
async function storedRecords(stage: Scope): Promise<State[]> {
  const records: State[] = [];
  const walk = async (scope: Scope): Promise<void> => {
    const held = await scope.records();
    const sealed: string[] = [];
    for (const state of held.values()) {
      if (needsSealing(state)) sealed.push(state.id);
      else records.push(state);
    }
    if (sealed.length > 0) records.push(...Object.values(await scope.store.getBatch(sealed)));
    const names = await childNames(scope);
    await Promise.all(names.map((name) => walk(scope.existingChild(name, held.has(name)))));
  };
  await walk(stage);
  return records;
}

/** What the engine knows better than a diff of records: replacements, and prop changes by value (a secret re-sealed unchanged is no change). */
function reported(events: readonly RunEvent[]): Map<string, ReportedChange> {
  const out = new Map<string, ReportedChange>();
  for (const e of events) {
    if (e.status !== "done" && e.status !== "failed") continue;
    if (e.action !== "create" && e.action !== "update" && e.action !== "replace" && e.action !== "delete") continue;
    const known = out.get(e.fqn);
    const changes = e.changes ? redactChanges(e.changes) : known?.changes;
    out.set(e.fqn, { action: known?.action === "replace" ? "replace" : e.action, kind: e.kind, ...(changes ? { changes } : {}), failed: e.status === "failed" });
  }
  return out;
}
