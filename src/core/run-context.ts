/**
 * What one application run shares across its scope tree: resolved options, the
 * stores it opened, what failed, and what it reported. The application scope
 * owns exactly one; nothing here is global.
 *
 * @module
 */
import type { StateStore } from "../state/state-store.js";
import { consoleReporter, SummaryCounter, type RunEvent, type RunSummary } from "./events.js";
import type { ResolvedOptions } from "./options.js";
import type { DeletionItem } from "./deletion-item.js";
import { driftLine, type Drift } from "./drift.js";
import { LockLostError } from "../state/stage-lock.js";
import { InterruptedError, type DeleteFailure } from "./errors.js";
import type { StageSecrets } from "./secrets/stage-secrets.js";
import { Credentials } from "./profiles/credentials.js";
import { Services, type ServiceKey } from "./services.js";

export class RunContext {
  private readonly startedAt = performance.now();
  private readonly counter = new SummaryCounter();
  private readonly print: (event: RunEvent) => void;
  /** Every store opened in this run, closed at the end. */
  readonly stores = new Set<StateStore>();
  /** Errors of resources or blocks that failed; a run with any deletes nothing at finalize. */
  readonly failures = new Set<Error>();
  /** Deletes that failed; reported together when the application is finalized. */
  readonly deleteFailures: DeleteFailure[] = [];
  /** Orphans of nested and resource scopes, handed to the stage, which deletes every orphan of the run at once. */
  readonly deferred: DeletionItem[] = [];
  /** Credentials of the run's profile; scopes may override them per provider. */
  readonly credentials: Credentials;
  /** The stage's secrets: keys derived once per run (set by the application). */
  secrets!: StageSecrets;
  /** Every event of the run, in order (plan entries included). */
  readonly events: RunEvent[] = [];
  /** What the run's refresh found of each record it read (see `drift.ts`), in order. */
  readonly drift: Drift[] = [];
  /**
   * Set while the run holds its stage's lock: the error that forbids acting
   * on the stage now (the lease ran out by this run's own clock), else
   * `undefined`. See `stage-locking.ts`.
   */
  stageLease?: () => Error | undefined;
  /** Why the run was stopped from within (see {@link halt}). */
  private halted?: Error;
  /** Services the run's resources share: the launcher's, or the run's own (disposed when it ends). */
  readonly services: Services;
  /** True when {@link services} are the run's own, to dispose when it ends. */
  readonly ownsServices: boolean;
  /** What the run's services reported when it ended (see `ServiceKey.report`), e.g. `{ cloudflareApi: { requests, retries, waitedMs } }`. */
  serviceReports: Record<string, unknown> = {};
  /** Operations started and not yet recorded. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    readonly options: ResolvedOptions,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.credentials = Credentials.fromEnv(options.profile, env);
    this.ownsServices = options.services === undefined;
    this.services = options.services ?? new Services();
    this.print = consoleReporter(options.quiet);
  }

  /** True once anything failed: finalize must not read absence as removal. */
  get failed(): boolean {
    return this.failures.size > 0;
  }

  fail(error: Error): void {
    this.failures.add(error);
    // A run that lost its stage lock must not touch anything more.
    for (let e: unknown = error; e instanceof Error; e = e.cause) if (e instanceof LockLostError) this.halt(e);
  }

  /** Stops the run: no create, update or delete starts after this; those in flight finish. */
  halt(reason: Error): void {
    this.halted ??= reason;
  }

  emit(event: RunEvent): void {
    if (event.status !== "start") {
      this.counter.count(event);
      this.events.push(event);
    }
    (this.options.onEvent ?? this.print)(event);
  }

  /** Reports what a refresh found of one record: to `onDrift`, else (unless quiet, or in sync) a line on stderr. */
  reportDrift(drift: Drift): void {
    this.drift.push(drift);
    if (this.options.onDrift) this.options.onDrift(drift);
    else if (!this.options.quiet && drift.status !== "in-sync") console.error(driftLine(drift));
  }

  /** Reports a warning whatever `quiet` says. */
  warn(message: string): void {
    if (this.options.onWarning) this.options.onWarning(message);
    else console.error(`! ${message}`);
  }

  /** The service of `key`, started on first use (see `services.ts`). */
  service<T>(key: ServiceKey<T>): Promise<T> {
    return this.services.get(key, { rootDir: this.options.rootDir, warn: (message) => this.warn(message) });
  }

  /** Keeps `operation` counted as in flight until it settles; returns it. */
  track<T>(operation: Promise<T>): Promise<T> {
    this.inFlight.add(operation);
    const forget = () => this.inFlight.delete(operation);
    operation.then(forget, forget);
    return operation;
  }

  /** Resolves once no operation is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** True once the run was interrupted or halted. */
  get stopping(): boolean {
    return this.halted !== undefined || this.options.signal?.aborted === true;
  }

  /**
   * Throws, and halts the run, when it may no longer act on its stage
   * because its lock's lease ran out unrenewed. Checked right before every
   * handler starts, after the record saying what it is about to do was written.
   */
  assertMayAct(): void {
    const lost = this.stageLease?.();
    if (lost === undefined) return;
    this.fail(lost);
    throw lost;
  }

  /** If the run was asked to stop, the error that keeps `fqn` from starting. */
  interruption(fqn: string): InterruptedError | undefined {
    if (this.halted) return new InterruptedError(fqn, this.halted);
    return this.options.signal?.aborted ? new InterruptedError(fqn) : undefined;
  }

  summary(): RunSummary {
    return { ...this.counter.summary, elapsedMs: performance.now() - this.startedAt };
  }
}
