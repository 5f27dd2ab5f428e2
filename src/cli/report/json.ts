/**
 * `--json`: nothing but one JSON document on stdout, written at the end: every
 * resource's action and status, the applications run, errors and the summary.
 * Anything the program itself prints goes to stderr meanwhile.
 *
 * @module
 */
import type { RunEvent } from "../../core/events.js";
import type { Output } from "../io.js";
import type { Reporter, RunOutcome } from "./outcome.js";

export class JsonReporter implements Reporter {
  private readonly warnings: string[] = [];

  constructor(private readonly out: Output) {}

  event(_event: RunEvent): void {}

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
