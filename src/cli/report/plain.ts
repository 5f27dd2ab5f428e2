/**
 * Plain output, for logs and pipes (no terminal) and `--quiet`: one line per
 * changed or failed resource as it finishes, then the outcome.
 *
 * @module
 */
import type { RunEvent } from "../../core/events.js";
import type { Drift } from "../../core/drift.js";
import type { Output } from "../io.js";
import { driftLines, eventLines, isReported, outcomeLines } from "./format.js";
import type { Reporter, RunOutcome } from "./outcome.js";

export class PlainReporter implements Reporter {
  /** A plan's lines, held until the end when it refreshes, so that every drift shows before the plan. */
  private readonly held: string[] = [];

  constructor(
    private readonly out: Output,
    private readonly err: Output,
    private readonly holdPlan = false,
  ) {}

  event(event: RunEvent): void {
    if (event.status === "start" && event.note) this.err.write(`! ${event.fqn}: ${event.note}\n`);
    if (!isReported(event)) return;
    if (this.holdPlan && event.status === "planned") this.held.push(...eventLines(event));
    else this.out.write(eventLines(event).join("\n") + "\n");
  }

  drift(drift: Drift): void {
    const lines = driftLines(drift);
    if (lines.length) this.out.write(lines.join("\n") + "\n");
  }

  warning(message: string): void {
    this.err.write(`! ${message}\n`);
  }

  notice(message: string): void {
    this.err.write(`${message}\n`);
  }

  finish(outcome: RunOutcome): void {
    this.out.write([...this.held.splice(0), ...outcomeLines(outcome)].join("\n") + "\n");
  }
}
