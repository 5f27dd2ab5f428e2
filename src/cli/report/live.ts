/**
 * Live progress on a terminal: finished resources scroll by as lines (created,
 * updated, deleted, failed; unchanged ones are only counted), and under them a
 * redrawn area shows what is in flight, the running count (`142/1000`) and
 * the elapsed time.
 *
 * Anything else written to the terminal meanwhile (the program's own logs)
 * clears the area first, so it never interleaves with it.
 *
 * @module
 */
import pc from "picocolors";
import type { RunEvent } from "../../core/events.js";
import type { Drift } from "../../core/drift.js";
import type { Output } from "../io.js";
import { driftLines, eventLines, isReported, outcomeLines, seconds } from "./format.js";
import type { Reporter, RunOutcome } from "./outcome.js";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const SHOWN_IN_FLIGHT = 6;
const FRAME_MS = 80;
const VERB: Record<string, string> = { create: "creating", update: "updating", replace: "replacing", delete: "deleting", read: "reading" };

export class LiveReporter implements Reporter {
  private readonly startedAt = performance.now();
  private readonly inFlight = new Map<string, { action: string; since: number }>();
  private readonly seen = new Set<string>();
  private finished = 0;
  private pending: string[] = [];
  private drawnLines = 0;
  /** A plan's lines, held until the end when it refreshes, so that every drift shows before the plan. */
  private readonly held: string[] = [];
  private frame = 0;
  private timer?: NodeJS.Timeout;
  private readonly write: (chunk: string) => void;
  private readonly unhook: () => void;

  constructor(
    private readonly out: Output,
    streams: NodeJS.WriteStream[] = [],
    private readonly holdPlan = false,
  ) {
    const original = out.write.bind(out);
    this.write = (chunk) => void original(chunk);
    this.unhook = hookWrites(streams, () => this.clear());
    this.timer = setInterval(() => this.draw(), FRAME_MS);
    this.timer.unref();
  }

  event(event: RunEvent): void {
    this.seen.add(event.fqn + "\0" + event.action);
    if (event.status === "start") {
      this.inFlight.set(event.fqn, { action: event.action, since: performance.now() });
      if (event.note) this.pending.push(pc.yellow(`! ${event.fqn}: ${event.note}`));
      return;
    }
    const started = this.inFlight.get(event.fqn);
    this.inFlight.delete(event.fqn);
    this.finished++;
    if (!isReported(event)) return;
    const lines = eventLines(event, started ? performance.now() - started.since : undefined);
    if (this.holdPlan && event.status === "planned") this.held.push(...lines);
    else this.pending.push(...lines);
  }

  drift(drift: Drift): void {
    this.pending.push(...driftLines(drift));
  }

  warning(message: string): void {
    this.pending.push(pc.yellow(`! ${message}`));
  }

  notice(message: string): void {
    this.pending.push(pc.yellow(message));
    this.draw();
  }

  finish(outcome: RunOutcome): void {
    clearInterval(this.timer);
    this.inFlight.clear();
    this.clear();
    this.pending.push(...this.held.splice(0));
    this.flush();
    this.unhook();
    this.write(outcomeLines(outcome).join("\n") + "\n");
  }

  /** Prints the finished lines and redraws the live area. */
  private draw(): void {
    // Nothing to show before the first resource (and a confirmation prompt may be waiting).
    if (this.seen.size === 0 && this.pending.length === 0) return;
    this.clear();
    this.flush();
    const width = Math.max(40, (this.out.columns || 80) - 1);
    const now = performance.now();
    const lines: string[] = [];
    const spin = SPINNER[this.frame++ % SPINNER.length];
    let shown = 0;
    for (const [fqn, { action, since }] of this.inFlight) {
      if (shown++ === SHOWN_IN_FLIGHT) {
        lines.push(pc.dim(`  … and ${this.inFlight.size - SHOWN_IN_FLIGHT} more in flight`));
        break;
      }
      lines.push(`${pc.cyan(spin)} ${fit(`${VERB[action] ?? action} ${fqn}`, width - 10)} ${pc.dim(seconds(now - since))}`);
    }
    lines.push(pc.bold(`${this.finished}/${this.seen.size}`) + pc.dim(` resources · ${seconds(now - this.startedAt)}`));
    this.write(lines.join("\n") + "\n");
    this.drawnLines = lines.length;
  }

  private flush(): void {
    if (this.pending.length) this.write(this.pending.join("\n") + "\n");
    this.pending = [];
  }

  /** Erases the live area, leaving the cursor where it began. */
  private clear(): void {
    if (this.drawnLines) this.write(`\x1b[${this.drawnLines}F\x1b[J`);
    this.drawnLines = 0;
  }
}

/** Truncates plain text to `width` characters. */
function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(1, width - 1))}…`;
}

/** Calls `before` ahead of every write to `streams`; returns the undo. */
function hookWrites(streams: NodeJS.WriteStream[], before: () => void): () => void {
  const restores = streams.map((stream) => {
    const original = stream.write;
    stream.write = function (this: NodeJS.WriteStream, ...args: Parameters<typeof original>) {
      before();
      return original.apply(this, args);
    } as typeof original;
    return () => {
      stream.write = original;
    };
  });
  return () => restores.forEach((restore) => restore());
}
