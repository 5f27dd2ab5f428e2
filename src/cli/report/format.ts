/**
 * The text of per-resource lines, failures and the summary, shared by the
 * live (terminal) and plain reporters.
 *
 * @module
 */
import pc from "picocolors";
import { alternativesText, changeCount, formatSummary, type RunEvent } from "../../core/events.js";
import { driftLine, type Drift, type DriftStatus } from "../../core/drift.js";
import type { RunOutcome } from "./outcome.js";
import { unfinishedLine } from "./unfinished.js";

const PAST: Record<string, string> = { create: "created", update: "updated", replace: "replaced", delete: "deleted", read: "read", noop: "unchanged" };
const PLANNED: Record<string, [string, (s: string) => string]> = {
  create: ["+ create ", pc.green],
  update: ["~ update ", pc.yellow],
  replace: ["± replace", pc.yellow],
  delete: ["- delete ", pc.red],
  noop: ["  unchanged", pc.dim],
};

/** Whether an event deserves a line of its own (unchanged resources are only counted). */
export function isReported(event: RunEvent): boolean {
  return event.status !== "start" && (event.action !== "noop" || !!event.recorded?.length);
}

/** The lines of one finished event: a head line, then one per changed prop path in a plan. */
export function eventLines(event: RunEvent, elapsedMs?: number): string[] {
  const note = event.note ? pc.dim(` (${event.note})`) : "";
  if (event.status === "failed") {
    return [`${pc.red("✗")} ${event.action} ${event.fqn}: ${pc.red(event.error?.message ?? "failed")}`];
  }
  const flags = flagsText(event);
  if (event.status === "planned") {
    if (event.action === "noop" && event.recorded?.length) return [`${pc.cyan("  record ")} ${event.fqn}${pc.dim(` (${event.recorded.join(", ")}; the handler is not called)`)}`];
    if (event.action === "delete" && event.retain && !event.refused) return [`${pc.cyan("- forget ")} ${event.fqn}${pc.dim(" (retain: the record is forgotten, the resource is not deleted)")}`];
    const [label, colour] = PLANNED[event.action] ?? [event.action, (s: string) => s];
    // `?`: deploy may do less (update instead of replace, nothing instead of update), decided by values known only then.
    const undecided = event.alternatives?.length ? event.alternatives : undefined;
    const head = undecided ? `?${label.slice(1)}` : label;
    const unknown = undecided
      ? pc.dim(` (${alternativesText(undecided)})`)
      : event.unknown
        ? pc.dim(" (some values known only after deploy)")
        : "";
    const refused = event.refused ? ` ${pc.red(pc.bold(event.refused === "protected" ? "✗ protected: deploy stops" : "✗ over maxDeletes: deploy stops"))}` : "";
    return [`${colour(head)} ${event.fqn}${note}${unknown}${flags}${refused}`, ...(event.changes ?? []).map((c) => `    ${c.path || "(all props)"}: ${value(c.before)} -> ${value(c.after)}`)];
  }
  if (event.action === "read") return [`${pc.cyan("=")} ${event.fqn} ${value(event.output, 200)}`];
  const time = elapsedMs === undefined ? "" : pc.dim(` ${seconds(elapsedMs)}`);
  const paths = event.changes?.length ? pc.dim(` (${event.changes.map((c) => c.path || "(all props)").join(", ")})`) : "";
  if (event.action === "noop") return [`${pc.green("✓")} recorded ${event.fqn}${pc.dim(` (${event.recorded?.join(", ")})`)}${time}`];
  const verb = event.action === "delete" && event.retain ? "retained" : (PAST[event.action] ?? event.action);
  return [`${pc.green("✓")} ${verb} ${event.fqn}${paths}${note}${event.action === "delete" ? "" : flags}${time}`];
}

/**
 * The line of what a refresh found of one record (none when in sync):
 * `! drifted app/dev/site/index  content: "<h1>Hi</h1>" -> "<h1>edited by hand</h1>"`,
 * `! gone app/dev/x (it will be created again)`, `? not read app/dev/y (...)`.
 */
export function driftLines(drift: Drift): string[] {
  if (drift.status === "in-sync") return [];
  const line = driftLine(drift, (v) => value(v));
  return [drift.status === "unread" ? pc.dim(line) : pc.yellow(line)];
}

/** Records a refresh read, by what it found. */
export function driftCounts(drift: readonly Drift[]): Record<DriftStatus, number> {
  const counts: Record<DriftStatus, number> = { "in-sync": 0, drifted: 0, gone: 0, unread: 0 };
  for (const d of drift) counts[d.status]++;
  return counts;
}

/**
 * `Refresh: 1 drifted (recorded), 1 gone (record removed), 4 in sync; no resource was changed (0.2s)`
 * for `alchemy refresh`; for plan and deploy with `--refresh`, the line before the summary.
 */
function refreshLine(outcome: RunOutcome): string {
  const c = driftCounts(outcome.drift);
  const only = outcome.command === "refresh";
  const parts = [
    `${c.drifted} drifted${only ? " (recorded)" : ""}`,
    `${c.gone} gone${only ? " (record removed)" : ""}`,
    ...(c.unread ? [`${c.unread} not read (taken as recorded)`] : []),
    `${c["in-sync"]} in sync`,
  ];
  return only ? `Refresh: ${parts.join(", ")}; no resource was changed (${seconds(outcome.summary.elapsedMs)})` : `Refreshed ${outcome.drift.length}: ${parts.join(", ")}`;
}

/** ` [protected, retained]` for a resource with either option, else "". */
function flagsText(event: RunEvent): string {
  const flags = [event.protect ? "protected" : "", event.retain ? "retained" : ""].filter(Boolean);
  return flags.length ? pc.dim(` [${flags.join(", ")}]`) : "";
}

/** How many resources an interruption names before it only counts the rest (`--json` lists every one). */
const NAMED_NOT_STARTED = 20;

/** The closing lines: failures with their cause and place, the interruption and what it left, the summary. */
export function outcomeLines(outcome: RunOutcome): string[] {
  const lines: string[] = [];
  if (outcome.errors.length) {
    lines.push("", pc.red(pc.bold(`${outcome.errors.length} error(s):`)));
    for (const error of outcome.errors) {
      const where = error.fqn ? `${error.fqn}: ` : "";
      lines.push(`  ${pc.red("✗")} ${where}${error.message.split("\n").join("\n    ")}`);
      if (error.stack) lines.push(pc.dim(indent(error.stack, "      ")));
      else if (error.location) lines.push(pc.dim(`      at ${error.location}`));
    }
  }
  if (outcome.unfinished) lines.push(pc.yellow(unfinishedLine(outcome.unfinished, outcome.lockedStages)));
  if (outcome.interrupted && outcome.unfinished === "exited") {
    lines.push(pc.yellow(`Interrupted by ${outcome.interrupted}, then exited without waiting for the operations in flight.`));
  } else if (outcome.interrupted) {
    const left = outcome.notStarted;
    lines.push(
      pc.yellow(
        `Interrupted by ${outcome.interrupted}: every operation that had started finished and is recorded` +
          (left.length ? `; ${left.length} not started (run again to finish):` : "."),
      ),
    );
    for (const fqn of left.slice(0, NAMED_NOT_STARTED)) lines.push(`  ${fqn}`);
    if (left.length > NAMED_NOT_STARTED) lines.push(pc.dim(`  … and ${left.length - NAMED_NOT_STARTED} more (--json lists every one)`));
  }
  const s = outcome.summary;
  const changed = changeCount(s) + s.failed;
  if (outcome.command === "refresh") {
    lines.push(outcome.errors.length && outcome.drift.length === 0 ? `Nothing was recorded (${seconds(s.elapsedMs)}).` : refreshLine(outcome));
    return lines;
  }
  if (outcome.drift.length) lines.push(refreshLine(outcome));
  // A declined destroy is no error; after an error that stopped the run before any resource, "No changes" would read like success.
  if (outcome.cancelled && changed === 0) lines.push("Cancelled, nothing was changed.");
  else if (outcome.errors.length > 0 && changed === 0 && s.unchanged === 0) lines.push(`Nothing was changed (${seconds(s.elapsedMs)}).`);
  else lines.push(formatSummary(s, outcome.command === "plan"));
  return lines;
}

/** `1.4s` */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function indent(text: string, by: string): string {
  return text
    .split("\n")
    .map((line) => by + line)
    .join("\n");
}

function value(v: unknown, max = 60): string {
  if (v === undefined) return pc.dim("(none)");
  const text = JSON.stringify(v) ?? String(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
