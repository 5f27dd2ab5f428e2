/**
 * The application scope: root of the tree, owner of the run's options and
 * stores. It holds exactly one stage scope, where top-level resources live.
 *
 * @module
 */
import type { StateStoreFactory } from "../state/state-store.js";
import { DestroyError, toError } from "./errors.js";
import { formatSummary, type RunEvent, type RunSummary } from "./events.js";
import type { RunContext } from "./run-context.js";
import { Scope } from "./scope.js";
import { StageSecrets } from "./secrets/stage-secrets.js";
import type { HeldStageLock } from "./stage-locking.js";
import { recordRunEnd } from "./last-deploy.js";
import { recordRunHistory } from "./run-history.js";

/**
 * What `await alchemy("my-app")` returns.
 *
 * @example
 * await using app = await alchemy("my-app", { stage: "prod" });
 * await Thing("a", {});
 * // finalized (orphans deleted, stores closed) at the end of the block
 */
export class Application extends Scope {
  /** The stage scope: `.alchemy/<app>/<stage>/`. */
  readonly stage: Scope;
  private closing?: Promise<void>;
  private abandoning?: Promise<void>;
  /** True once the application is closed: its stores closed and its stage lock let go (finalized, released or abandoned). */
  closed = false;
  /** The stage lock this run holds, released when the application closes. */
  stageLock?: HeldStageLock;
  /** Set once the run holds its stage (locked where the store locks) and has read its records. */
  started = false;
  /** The command line (or program) that runs this application, recorded in `lastDeploy`. */
  command = "";
  /** When the application was made (ms since the epoch): the start of the run, in its history entry. */
  readonly startedAt = Date.now();

  constructor(context: RunContext, storeFactory: StateStoreFactory) {
    super(context, context.options.appName, "application", undefined, storeFactory);
    this.stage = new Scope(context, context.options.stage, "stage", this);
    this.stage.ran = true;
    this.adopt(this.stage);
    context.secrets = new StageSecrets(this.stage.path, () => this.stage.store, context.options.password);
  }

  /**
   * Finalizes the stage (orphan clean-up, or in the destroy phase the whole
   * stage), closes the stores and prints the summary. Rejects with a
   * {@link DestroyError} listing every delete that failed during the run.
   */
  override finalize(): Promise<void> {
    this.closing ??= this.close();
    return this.closing;
  }

  override finalizeNested(name: string): Promise<void> {
    return this.stage.finalizeNested(name);
  }

  /** Counts of what the run did so far. */
  get summary(): RunSummary {
    return this.context.summary();
  }

  /** Every finished resource event of the run, in order. */
  get events(): readonly RunEvent[] {
    return this.context.events;
  }

  /** In the plan phase: what a deploy would do to each resource. */
  get plan(): readonly RunEvent[] {
    return this.context.events.filter((e) => e.status === "planned");
  }

  /**
   * Ends a run that will not be finalized (the program failed or was
   * interrupted): waits for the operations in flight to be recorded, then closes
   * the stores. Deletes nothing. After `finalize()` it just waits for it.
   */
  release(): Promise<void> {
    this.closing ??= this.close(false);
    return this.closing.catch(() => undefined);
  }

  /**
   * Ends a run whose operations in flight can never settle (their handlers
   * await promises that nothing is left to resolve): closes the stores and
   * releases the stage lock without waiting for them, and starts nothing more.
   * Their records stay as they left them ("creating", "updating", "deleting"),
   * so the next run resumes them. Deletes nothing.
   */
  abandon(reason: Error): Promise<void> {
    this.context.halt(reason);
    this.abandoning ??= this.close(false, false);
    return this.abandoning.catch(() => undefined);
  }

  private async close(finalize = true, waitForInFlight = true): Promise<void> {
    const context = this.context;
    let failure: unknown;
    try {
      if (finalize) await this.stage.finalize();
    } catch (error) {
      failure = error;
    }
    if (waitForInFlight) await context.idle();
    const ok = finalize && failure === undefined && context.deleteFailures.length === 0 && !context.failed;
    try {
      await this.recordEnd(finalize, ok);
    } catch (error) {
      // A run that already failed (a lost lock, say) reports that failure, not this one.
      if (ok) failure = error;
    }
    try {
      await this.recordHistory(ok);
    } catch (error) {
      if (ok) failure ??= error;
    }
    for (const store of context.stores) {
      try {
        await store.deinit?.();
      } catch (error) {
        failure ??= error;
      }
    }
    try {
      await this.stageLock?.release();
    } catch (error) {
      failure ??= error;
    }
    context.serviceReports = await context.services.reports();
    if (context.ownsServices) {
      try {
        await context.services.dispose();
      } catch (error) {
        failure ??= error;
      }
    }
    this.closed = true;
    if (!finalize) return;
    if (context.options.printSummary) console.log(formatSummary(this.summary, context.options.phase === "plan"));
    if (failure) throw toError(failure);
    if (context.deleteFailures.length) throw new DestroyError(context.deleteFailures);
  }

  /**
   * The stage history entry of a deploy, destroy or refresh that changed a
   * record, after the records and before the lock is released (see run-history.ts).
   */
  private async recordHistory(ok: boolean): Promise<void> {
    const { phase, historyLimit, signal } = this.context.options;
    if (!this.started || (phase !== "up" && phase !== "destroy" && phase !== "refresh")) return;
    const interrupted = signal?.aborted === true || this.context.stopping;
    await recordRunHistory(this.stage, {
      command: phase === "up" ? "deploy" : phase,
      commandLine: this.command,
      startedAt: this.startedAt,
      outcome: ok ? "ok" : interrupted ? "interrupted" : "failed",
      events: this.context.events,
      keep: historyLimit,
    });
  }

  /**
   * `lastDeploy` after a deploy that was finalized or got as far as a
   * resource (a run released before touching anything is no deploy); no stage
   * metadata left once a deploy or destroy empties the stage.
   */
  private async recordEnd(finalized: boolean, ok: boolean): Promise<void> {
    const { phase } = this.context.options;
    if (!this.started || (phase !== "up" && phase !== "destroy")) return;
    const deployed = phase === "up" && (finalized || this.context.events.length > 0);
    await recordRunEnd(this.stage, { deployed, command: this.command, ok });
  }
}
