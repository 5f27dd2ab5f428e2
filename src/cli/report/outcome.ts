/**
 * What a run of deploy, plan, destroy or read came to: the record every
 * reporter prints at the end, and `--json` prints whole.
 *
 * @module
 */
import type { ResourceAction, RunEvent, RunSummary } from "../../core/events.js";
import type { Phase } from "../../core/options.js";
import type { Drift } from "../../core/drift.js";

export type RunCommandName = "deploy" | "plan" | "destroy" | "read" | "refresh";

/** One error to show: a resource's failure, or the program's own. */
export interface ReportedError {
  message: string;
  /** The resource concerned, when there is one. */
  fqn?: string;
  /** `file:line:column` in the user's code, for errors the program or a resource's handler threw. */
  location?: string;
  /** The whole stack, the causes' included (only under `--verbose`). */
  stack?: string;
  /** The command line was used wrongly (a flag contradicts the program): exit code 2 when every error is one. */
  usage?: true;
}

/** A stage the run created while the application's store held others (a mistyped `--stage` shows). */
export interface NewStageNote {
  app: string;
  stage: string;
  /** The stages the store held, sorted. */
  existing: string[];
}

/** An operation on a resource that started and never finished. */
export interface PendingOperation {
  fqn: string;
  kind: string;
  action: ResourceAction;
}

/**
 * How a run ended without finishing: `stuck` when nothing was left for it to
 * wait on (a promise that never settles), `exited` when the process exited in
 * its middle (`process.exit` in a handler).
 */
export type Unfinished = "stuck" | "exited";

export interface RunOutcome {
  command: RunCommandName;
  entry: string;
  applications: { app: string; stage: string; phase: Phase }[];
  /** Finished events (start events left out), in order. */
  events: RunEvent[];
  summary: RunSummary;
  errors: ReportedError[];
  /** Set when Ctrl-C (or SIGTERM) stopped the run. */
  interrupted?: string;
  /** Operations that were never started because of the interruption. */
  notStarted: string[];
  /** Set when a destroy was declined at its confirmation: nothing was deleted, and it is not an error. */
  cancelled?: boolean;
  /** Stages the run created next to existing ones. */
  newStages: NewStageNote[];
  /** What the run's refresh found of each record it read (`--refresh`, `alchemy refresh`), in sync included. */
  drift: Drift[];
  /** What the runs' services reported (e.g. `cloudflareApi: { requests, retries, waitedMs }`), merged over the applications. */
  services?: Record<string, unknown>;
  /** Set when the run ended without finishing. */
  unfinished?: Unfinished;
  /** Operations in flight when the run ended unfinished. */
  pending: PendingOperation[];
  /** Stages (`app/stage`) whose lock the run held when it ended unfinished. */
  lockedStages: string[];
  exitCode: number;
}

/** Prints a run as it goes, and its outcome at the end. */
export interface Reporter {
  event(event: RunEvent): void;
  /** What a refresh found of one record (in sync included). */
  drift(drift: Drift): void;
  warning(message: string): void;
  /** A line about the run itself (e.g. "stopping..."), outside the per-resource lines. */
  notice(message: string): void;
  finish(outcome: RunOutcome): void;
}
