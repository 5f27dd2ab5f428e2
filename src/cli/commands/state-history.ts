/**
 * `alchemy state history`, and the `--at <run>` of `state show` and `state
 * export`: a stage's history, read through its store's history capability.
 * Read-only: these take no lock and write nothing.
 *
 * @module
 */
import { redactSecrets } from "../../history/history-changes.js";
import type { HistoryEntry } from "../../history/history-entry.js";
import { keepsHistory, listRuns, stageAt, type HistoryStore, type StageAt } from "../../history/stage-history.js";
import { EXIT, runCommandBody } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { resolveApp, StateCommandError, withStateSession, type StateSession } from "../state-access.js";
import { checkStageAccess, profileAccess } from "../stage-profile-check.js";
import { resolveStage, stateLocationOf } from "../state-target.js";
import type { StateCommandOptions } from "./state.js";

/**
 * `alchemy state history`: the stage's runs, newest first, each with what it
 * did per resource; `--json` prints the entries as they are kept.
 *
 * @example
 * await stateHistory({ state: ".alchemy", stage: "dev", json: false, limit: 10 }, processIO());
 * // 20260102T030405123Z-9f3a  2026-01-02 03:04:01  deploy  ada@laptop  ok  4.1s  1 updated
 * //   ~ shop/dev/site  content: "a" -> "b"
 */
export async function stateHistory(opts: StateCommandOptions & { stage?: string; json: boolean; limit?: number }, io: CliIO): Promise<number> {
  return runCommandBody(io, async () => {
    const where = stateLocationOf(opts, io);
    const stage = resolveStage(opts.stage, io.env);
    const app = resolveApp(where, opts.app);
    await checkStageAccess(where, app, stage, profileAccess(opts, io));
    const entries = await withStateSession(where, async (session) => listRuns(await historyStore(session, app, stage), opts.limit), io.stderr);
    if (opts.json) io.stdout.write(JSON.stringify(entries, null, 2) + "\n");
    else if (entries.length === 0) io.stdout.write(`No history recorded for ${app}/${stage} in ${where.kind === "file" ? where.dir : "the store"}: no run has changed it yet (or its history was pruned with the stage).\n`);
    else for (const entry of entries) io.stdout.write(formatEntry(entry));
    return EXIT.ok;
  });
}

/**
 * The stage of `app/stage` as it was after `run` (records and metadata),
 * read-only. Used by `state show --at` and `state export --at`.
 *
 * @throws StateCommandError when the store keeps no history or has no such run.
 */
export async function readStageAt(session: StateSession, app: string, stage: string, run: string): Promise<StageAt> {
  return stageAt(await historyStore(session, app, stage), run);
}

/** One run as `state history` prints it: a summary line, then a line per resource. */
export function formatEntry(entry: HistoryEntry): string {
  const when = entry.at.replace("T", " ").replace(/\.\d+Z$/, "");
  const counts = new Map<string, number>();
  for (const r of entry.resources) counts.set(r.action, (counts.get(r.action) ?? 0) + 1);
  const summary = [...counts].map(([action, n]) => `${n} ${PAST[action] ?? action}`).join(", ");
  const lines = [`${entry.run}  ${when}  ${entry.command}  ${entry.by}  ${entry.outcome}  ${(entry.durationMs / 1000).toFixed(1)}s  ${summary}`];
  for (const r of entry.resources) {
    const paths = r.changes.map((c) => `${c.path || "(all)"}: ${show(c.before)} -> ${show(c.after)}`).join(", ");
    lines.push(`  ${SIGN[r.action] ?? "?"} ${r.fqn}${r.failed ? " (failed)" : ""}${paths ? `  ${paths}` : ""}`);
  }
  return lines.join("\n") + "\n";
}

async function historyStore(session: StateSession, app: string, stage: string): Promise<HistoryStore> {
  const store = await session.open([app, stage]);
  if (!keepsHistory(store)) throw new StateCommandError(`The store ${session.where} keeps no history of stages (it does not implement appendHistory/listHistory). Use a filesystem, SQLite, PostgreSQL, S3, R2 or DynamoDB store.`);
  return store;
}

function show(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = JSON.stringify(redactSecrets(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const PAST: Record<string, string> = { create: "created", update: "updated", replace: "replaced", delete: "deleted" };
const SIGN: Record<string, string> = { create: "+", update: "~", replace: "±", delete: "-" };
