/**
 * `alchemy deploy | plan | destroy | read`: runs the user's program under a
 * launch carrying the command's flags, reports each resource as it goes, and
 * turns what happened into an exit code.
 *
 * A program that throws (or is stopped) deletes nothing: its applications are
 * released, not finalized. A program that returns without finalizing its
 * application has it finalized here, as `alchemy deploy` promises.
 *
 * A run that cannot finish is reported, never ended silently: when nothing is
 * left for it to wait on (a handler or the program awaits a promise that never
 * settles) its applications are abandoned (stores closed, stage locks released,
 * pending records left for the next run to resume) and it exits 1; when the
 * process exits in its middle (`process.exit` in a handler) the outcome is
 * printed as it stands and the exit code is never 0 (see `run-watch.ts`).
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";
import type { Application } from "../../core/application.js";
import { AlchemyError, DestroyCancelledError, DestroyError, InterruptedError, OptionConflictError, ResourceError, toError } from "../../core/errors.js";
import { changeCount, SummaryCounter, type RunEvent } from "../../core/events.js";
import { isDrift, type Drift } from "../../core/drift.js";
import { LAUNCHED_ENV, runLaunched, type Launch, type LaunchOptions } from "../../core/launch.js";
import type { DestroyStrategy, Phase } from "../../core/options.js";
import { resolveEntry } from "../entry.js";
import { describeLocation, storeFactory } from "../../state/store-url.js";
import { stateLocationOf } from "../state-target.js";
import { EXIT, UsageError } from "../exit-codes.js";
import { listenForInterrupts, STOP_SIGNALS } from "../interrupt.js";
import type { CliIO } from "../io.js";
import { fullStack, handlerLocation, programErrorMessage, thrownByHandler, userLocation } from "../program-error.js";
import { confirm } from "../prompt.js";
import { pickReporter } from "../report/pick.js";
import type { NewStageNote, ReportedError, RunCommandName, RunOutcome, Unfinished } from "../report/outcome.js";
import { PendingOperations } from "../report/pending.js";
import { exitError, pendingErrors, stuckProgramError } from "../report/unfinished.js";
import { STUCK, watchRun } from "../run-watch.js";

/** Flags of deploy, plan, destroy and read (each command uses its own subset). */
export interface RunCommandOptions {
  /** The command line as typed, recorded as the stage lock's holder. */
  command: string;
  /** `--state`: the store (directory or store URL) for a program that sets none. */
  state?: string;
  lockTimeoutMs?: number;
  stage?: string;
  profile?: string;
  json: boolean;
  quiet: boolean;
  /** deploy: update unchanged resources too; destroy: no confirmation. */
  force: boolean;
  /** destroy: no confirmation. */
  yes: boolean;
  adopt: boolean;
  /** `--allow-deletes` (deploy and plan). */
  allowDeletes?: boolean;
  concurrency?: number;
  strategy?: DestroyStrategy;
  detailedExitcode: boolean;
  /** `--refresh` (deploy, plan): read recorded resources before deciding. */
  refresh?: boolean;
  /** `--verbose`: every error with its whole stack. */
  verbose?: boolean;
  /** `--local`: providers on their local runtime. */
  local?: boolean;
}

const PHASE: Record<RunCommandName, Phase> = { deploy: "up", plan: "plan", destroy: "destroy", read: "read", refresh: "refresh" };

/** What a caller running the program repeatedly (`alchemy stages prune`) adds to a run. */
export interface RunExtras {
  /**
   * Appended to the program's URL, e.g. `?stage=pr-3`: a fresh URL evaluates
   * the program again in this process (the modules it imports stay loaded).
   */
  importQuery?: string;
  /** In the destroy phase, asked once the stage is locked, before anything is deleted; `false` cancels. */
  confirmDestroy?: Launch["confirmDestroy"];
  /** Services kept across runs (`alchemy dev`'s local runtime), owned by the caller. */
  services?: Launch["services"];
}

/** Runs the program at `entry` for `command`; resolves to the exit code. */
export async function runCommand(command: RunCommandName, entryArg: string | undefined, opts: RunCommandOptions, io: CliIO): Promise<number> {
  return (await executeRun(command, entryArg, opts, io)).exitCode;
}

/** Runs the program at `entry` for `command`, reporting as it goes; resolves to what the run came to. */
export async function executeRun(
  command: RunCommandName,
  entryArg: string | undefined,
  opts: RunCommandOptions,
  io: CliIO,
  extras: RunExtras = {},
): Promise<RunOutcome> {
  const entry = resolveEntry(entryArg, io.cwd);
  if (command === "destroy" && !opts.yes && !io.stdin.isTTY) {
    throw new UsageError("alchemy destroy deletes every resource of the stage and needs --force (or --yes) when not run from a terminal.");
  }
  const { options, spelledAs } = launchOptions(command, opts, io.cwd);
  const reporter = pickReporter(io, opts);
  const pending = new PendingOperations();
  const events: RunEvent[] = [];
  const drift: Drift[] = [];
  const newStages: NewStageNote[] = [];
  const counter = new SummaryCounter();
  const startedAt = performance.now();
  let exitingOnSignal = false;
  const interrupts = listenForInterrupts(
    (signal) => reporter.notice(`${signal}: stopping; operations in flight finish and are recorded (press Ctrl-C again to exit at once)`),
    (signal) => {
      io.stderr.write(`\n${signal} again: exiting now.\n`);
      exitingOnSignal = true;
      process.exit(STOP_SIGNALS[signal]);
    },
  );
  const launch: Launch = {
    options,
    spelledAs,
    command: opts.command,
    onEvent: (event) => {
      pending.observe(event);
      if (event.status !== "start") {
        events.push(event);
        counter.count(event);
      }
      reporter.event(event);
    },
    onWarning: (message) => reporter.warning(message),
    onDrift: (found) => {
      drift.push(found);
      reporter.drift(found);
    },
    onNewStage: ({ appName, stage, existing }) => {
      newStages.push({ app: appName, stage, existing });
      reporter.notice(`Creating new stage "${stage}" (existing: ${existing.join(", ")})`);
    },
    signal: interrupts.signal,
    services: extras.services,
    requireState: command === "destroy",
    confirmDestroy:
      extras.confirmDestroy ??
      (command === "destroy" && !opts.yes
        ? ({ appName, stage, resources }) =>
            confirm(io, `Destroy ${resources} resource(s) of ${appName}/${stage}? This cannot be undone. Type "yes" to go on: `)
        : undefined),
    applications: [],
  };

  const restoreStdout = opts.json ? sendStdoutToStderr() : () => {};
  const thrown: unknown[] = [];
  const outcomeOf = (unfinished?: Unfinished) => {
    const outcome = buildOutcome(command, entry, launch.applications, events, thrown, interrupts.received, !!opts.verbose);
    outcome.newStages = newStages;
    outcome.drift = drift;
    outcome.services = mergeServiceReports(launch.applications.map((app) => app.context.serviceReports));
    outcome.summary = { ...counter.summary, elapsedMs: performance.now() - startedAt };
    if (unfinished) {
      outcome.unfinished = unfinished;
      outcome.pending = pending.list();
      outcome.errors.unshift(...pendingErrors(outcome.pending, unfinished, command));
      if (unfinished === "stuck" && outcome.pending.length === 0) outcome.errors.push(stuckProgramError(entry));
      // Stuck: the locks were released (abandoned); exited: those not released yet stay held.
      const locked = launch.applications.filter((app) => app.stageLock && (unfinished === "stuck" || !app.closed));
      outcome.lockedStages = locked.map((app) => `${app.name}/${app.stage.name}`);
    }
    outcome.exitCode = exitCode(outcome, opts);
    return outcome;
  };
  // The process exits in the middle of the run (process.exit in a handler): say what is left pending, never exit 0.
  const watch = watchRun((exit) => {
    restoreStdout();
    const open = pending.list().length > 0 || launch.applications.length === 0 || launch.applications.some((app) => !app.closed);
    const outcome = outcomeOf(open ? "exited" : undefined);
    outcome.exitCode = exit.code !== 0 ? exit.code : open ? EXIT.failed : outcome.exitCode;
    if (open && !exitingOnSignal) outcome.errors.push(exitError(exit, outcome.exitCode));
    reporter.finish(outcome);
    return outcome.exitCode;
  });
  let stuck = false;
  try {
    process.env[LAUNCHED_ENV] = String(process.pid);
    registerTypeScript();
    try {
      const ran = await watch.race(runLaunched(launch, () => import(pathToFileURL(entry).href + (extras.importQuery ?? ""))));
      if (ran === STUCK) stuck = true;
      else if (launch.applications.length === 0) {
        thrown.push(new Error(`${entry} finished without starting an application. Call \`await alchemy("my-app")\` in it.`));
      }
    } catch (error) {
      thrown.push(error);
    }
    const stopped = thrown.length > 0 || interrupts.signal.aborted;
    for (const app of launch.applications) {
      if (!stuck) stuck = (await watch.race(stopped ? app.release() : app.finalize().catch((error: unknown) => thrown.push(error)))) === STUCK;
      // Nothing left to wait on: what never settled never will. A second stall (closing the stores) is given up on too.
      if (stuck) await watch.race(app.abandon(new AlchemyError(`The run of ${app.name}/${app.stage.name} was stuck: nothing was left for it to wait on.`)));
    }
  } finally {
    watch.dispose();
    interrupts.dispose();
    restoreStdout();
    delete process.env[LAUNCHED_ENV];
  }

  const outcome = outcomeOf(stuck ? "stuck" : undefined);
  reporter.finish(outcome);
  return outcome;
}

let typeScriptRegistered = false;
/** Lets `import()` load TypeScript programs, once per process (prune runs the program once per stage). */
function registerTypeScript(): void {
  if (typeScriptRegistered) return;
  register();
  typeScriptRegistered = true;
}

function launchOptions(command: RunCommandName, opts: RunCommandOptions, cwd: string): Pick<Launch, "options" | "spelledAs"> {
  const options: LaunchOptions = { phase: PHASE[command] };
  const spelledAs: Launch["spelledAs"] = { phase: `alchemy ${command} (phase "${PHASE[command]}")` };
  const set = <K extends keyof LaunchOptions>(key: K, value: LaunchOptions[K] | undefined, spelling: string) => {
    if (value === undefined) return;
    options[key] = value;
    spelledAs[key] = spelling;
  };
  set("stage", opts.stage, `--stage ${opts.stage}`);
  set("profile", opts.profile, `--profile ${opts.profile}`);
  if (command === "deploy") set("force", opts.force || undefined, "--force");
  set("adopt", opts.adopt || undefined, "--adopt");
  if (command === "deploy" || command === "plan") set("allowDeletes", opts.allowDeletes || undefined, "--allow-deletes");
  if (command === "deploy" || command === "plan") set("refresh", opts.refresh || undefined, "--refresh");
  set("concurrency", opts.concurrency, `--concurrency ${opts.concurrency}`);
  set("destroyStrategy", opts.strategy, `--strategy ${opts.strategy}`);
  set("lockTimeoutMs", opts.lockTimeoutMs, `--lock-timeout ${opts.lockTimeoutMs}ms`);
  set("local", opts.local, "--local");
  if (opts.state !== undefined) {
    const where = stateLocationOf({ state: opts.state }, { cwd });
    set("stateStore", storeFactory(where), `--state ${describeLocation(where)}`);
  }
  return { options, spelledAs };
}

function buildOutcome(
  command: RunCommandName,
  entry: string,
  applications: Application[],
  events: RunEvent[],
  thrown: unknown[],
  interrupted: string | undefined,
  verbose: boolean,
): RunOutcome {
  const errors: ReportedError[] = [];
  const notStarted: string[] = [];
  let cancelled = false;
  const listed = new Set<string>();
  const add = (error: ReportedError) => {
    const key = `${error.fqn ?? ""}\0${error.message}`;
    if (!listed.has(key)) errors.push(error);
    listed.add(key);
  };
  for (const event of events) {
    if (event.status !== "failed") continue;
    const handlerThrew = event.error && thrownByHandler(event.error);
    const location = handlerThrew && handlerLocation(handlerThrew);
    add({
      fqn: event.fqn,
      message: event.error?.message ?? "failed",
      ...(location ? { location } : {}),
      ...(verbose && event.error ? { stack: fullStack(handlerThrew ?? event.error) } : {}),
    });
  }
  const failedFqns = new Set(errors.map((e) => e.fqn));
  const seen = new Set<unknown>();
  const visit = (value: unknown) => {
    const error = toError(value);
    if (seen.has(error)) return;
    seen.add(error);
    if (error instanceof InterruptedError) notStarted.push(error.fqn);
    else if (error instanceof DestroyCancelledError) cancelled = true;
    else if (error instanceof DestroyError) {
      for (const f of error.failures) {
        if (f.error instanceof InterruptedError) notStarted.push(f.fqn);
        else if (!failedFqns.has(f.fqn)) add({ fqn: f.fqn, message: f.error.message });
      }
    } else if (error instanceof ResourceError && failedFqns.has(error.fqn)) {
      // Already listed from its event.
    } else {
      add({
        message: programErrorMessage(error),
        location: userLocation(error, entry),
        ...(verbose ? { stack: fullStack(error) } : {}),
        ...(error instanceof OptionConflictError ? { usage: true as const } : {}),
      });
    }
  };
  thrown.forEach(visit);
  for (const app of applications) app.context.failures.forEach(visit);
  return {
    command,
    entry,
    applications: applications.map((app) => ({ app: app.name, stage: app.stage.name, phase: app.context.options.phase })),
    events,
    summary: { created: 0, updated: 0, replaced: 0, deleted: 0, unchanged: 0, failed: 0, elapsedMs: 0 },
    errors,
    interrupted,
    notStarted: [...new Set(notStarted)],
    ...(cancelled ? { cancelled } : {}),
    newStages: [],
    drift: [],
    pending: [],
    lockedStages: [],
    exitCode: EXIT.ok,
  };
}

function exitCode(outcome: RunOutcome, opts: RunCommandOptions): number {
  if (outcome.interrupted) return STOP_SIGNALS[outcome.interrupted as keyof typeof STOP_SIGNALS];
  // A flag that contradicts the program is the command line used wrongly.
  if (outcome.errors.length) return outcome.errors.every((e) => e.usage) ? EXIT.usage : EXIT.failed;
  if (outcome.cancelled) return EXIT.failed;
  if (outcome.command === "plan" && opts.detailedExitcode) {
    if (changeCount(outcome.summary) > 0 || outcome.drift.some(isDrift)) return EXIT.changes;
  }
  if (outcome.command === "refresh" && opts.detailedExitcode && outcome.drift.some(isDrift)) return EXIT.changes;
  return EXIT.ok;
}

/** While the program runs under `--json`, whatever it prints goes to stderr, keeping stdout for the document. */
function sendStdoutToStderr(): () => void {
  const original = process.stdout.write;
  process.stdout.write = ((...args: Parameters<typeof original>) =>
    (process.stderr.write as (...a: unknown[]) => boolean)(...args)) as typeof original;
  return () => {
    process.stdout.write = original;
  };
}

/** The services' reports of several applications: counts of the same key are added up. */
function mergeServiceReports(reports: Record<string, unknown>[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const report of reports) {
    for (const [key, value] of Object.entries(report)) {
      const before = merged[key];
      if (isCounts(before) && isCounts(value)) {
        merged[key] = Object.fromEntries(Object.keys({ ...before, ...value }).map((k) => [k, (before[k] ?? 0) + (value[k] ?? 0)]));
      } else merged[key] = value;
    }
  }
  return merged;
}

function isCounts(value: unknown): value is Record<string, number> {
  return typeof value === "object" && value !== null && Object.values(value).every((v) => typeof v === "number");
}
