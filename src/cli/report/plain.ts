/**
 * Plain output, for logs and pipes (no terminal) and `--quiet`: one line per
 * changed or failed resource as it finishes, then the outcome.
 *
 * @module
 */
import type { RunEvent } from "../../core/events.js";
import type { Output } from "../io.js";
import { eventLines, isReported, outcomeLines } from "./format.js";
import type { Reporter, RunOutcome } from "./outcome.js";

export class PlainReporter implements Reporter {
  constructor(
    private readonly out: Output,
    private readonly err: Output,
  ) {}

  event(event: RunEvent): void {
    if (event.status === "start" && event.note) this.err.write(`! ${event.fqn}: ${event.note}\n`);
    if (isReported(event)) this.out.write(eventLines(event).join("\n") + "\n");
  }

  warning(message: string): void {
    this.err.write(`! ${message}\n`);
  }

  notice(message: string): void {
    this.err.write(`${message}\n`);
  }

  finish(outcome: RunOutcome): void {
    this.out.write(outcomeLines(outcome).join("\n") + "\n");
  }
}
