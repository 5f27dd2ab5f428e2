/**
 * Which reporter a command uses: JSON with `--json`, live progress on a
 * terminal, plain lines otherwise (or with `--quiet`).
 *
 * @module
 */
import type { CliIO } from "../io.js";
import { JsonReporter } from "./json.js";
import { LiveReporter } from "./live.js";
import type { Reporter } from "./outcome.js";
import { PlainReporter } from "./plain.js";

export function pickReporter(io: CliIO, opts: { json: boolean; quiet: boolean; refresh?: boolean }): Reporter {
  // A plan that refreshes shows every drift first, then the plan.
  const holdPlan = !!opts.refresh;
  if (opts.json) return new JsonReporter(io.stdout);
  if (io.stdout.isTTY && !opts.quiet) {
    // The program's own output to the real terminal must not tear the live area.
    const streams = io.stdout === process.stdout ? [process.stdout, process.stderr] : [];
    return new LiveReporter(io.stdout, streams, holdPlan);
  }
  return new PlainReporter(io.stdout, io.stderr, holdPlan);
}
