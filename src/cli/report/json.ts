/**
 * `--json`: nothing but one JSON document on stdout, written at the end: every
 * resource's action and status, the applications run, errors and the summary.
 * Anything the program itself prints goes to stderr meanwhile.
 *
 * @module
 */
import type { RunEvent } from "../../core/events.js";
import type { Drift } from "../../core/drift.js";
import type { Output } from "../io.js";
import { driftCounts } from "./format.js";
import type { Reporter, RunOutcome } from "./outcome.js";

export class JsonReporter implements Reporter {
  private readonly warnings: string[] = [];

  constructor(private readonly out: Output) {}

  event(_event: RunEvent): void {}

  drift(_drift: Drift): void {}

  warning(message: string): void {
    this.warnings.push(message);
  }

  notice(_message: string): void {}

  finish(outcome: RunOutcome): void {
    const document = {
      command: outcome.command,
      entry: outcome.entry,
      ok: outcome.exitCode === 0 || (outcome.command === "plan" && outcome.errors.length === 0 && !outcome.interrupted),
      exitCode: outcome.exitCode,
      applications: outcome.applications,
      resources: outcome.events.map((e) => ({
        fqn: e.fqn,
        kind: e.kind,
        action: e.action,
        status: e.status,
        ...(e.changes ? { changes: e.changes } : {}),
        ...(e.unknown ? { unknown: true } : {}),
        ...(e.alternatives ? { alternatives: e.alternatives } : {}),
        ...(e.note ? { note: e.note } : {}),
        ...(e.protect ? { protect: true } : {}),
        ...(e.retain ? { retain: true } : {}),
        ...(e.recorded ? { recorded: e.recorded } : {}),
        ...(e.refused ? { refused: e.refused } : {}),
        ...(e.error ? { error: e.error.message } : {}),
        ...(e.output !== undefined ? { output: e.output } : {}),
      })),
      summary: outcome.summary,
      ...(outcome.drift.length || outcome.command === "refresh" ? driftDocument(outcome.drift) : {}),
      errors: outcome.errors,
      warnings: this.warnings,
      ...(outcome.newStages.length ? { newStages: outcome.newStages } : {}),
      ...(outcome.services && Object.keys(outcome.services).length ? { services: outcome.services } : {}),
      ...(outcome.cancelled ? { cancelled: true } : {}),
      ...(outcome.interrupted ? { interrupted: outcome.interrupted, notStarted: outcome.notStarted } : {}),
      ...(outcome.unfinished ? { unfinished: outcome.unfinished, pending: outcome.pending } : {}),
    };
    this.out.write(JSON.stringify(document, null, 2) + "\n");
  }
}

/**
 * What a refresh found: `drift`, one entry per record not in sync (`status`
 * drifted, gone or unread; `changes` of props and `outputChanges`, each with
 * `before` as recorded and `after` as found; `note`), and `refreshed`, the
 * counts of every record read.
 */
function driftDocument(drift: readonly Drift[]) {
  return {
    drift: drift
      .filter((d) => d.status !== "in-sync")
      .map((d) => ({
        fqn: d.fqn,
        kind: d.kind,
        status: d.status,
        ...(d.changes ? { changes: d.changes } : {}),
        ...(d.outputChanges ? { outputChanges: d.outputChanges } : {}),
        ...(d.note ? { note: d.note } : {}),
      })),
    refreshed: driftCounts(drift),
  };
}
