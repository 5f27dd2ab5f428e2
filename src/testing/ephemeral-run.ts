/**
 * One test scope: an application run of its own on a stage of its own, in
 * which the test's function runs, and which is destroyed when the function
 * settles or the test ends, whichever comes first.
 *
 * Lifecycle contract:
 * - Start: crash leftovers of the file are swept first (once per process);
 *   then a stage is claimed in this process and locked without waiting, and
 *   must be empty. A derived stage that is taken (here, or locked by a live
 *   run elsewhere) or still holds records an earlier run could not destroy is
 *   tried again as `<stage>-2`, `-3`, ...; an explicit one fails.
 * - Clean-up runs once. After the function settled, its stage is destroyed in
 *   dependency order in the same run. When the test ends first (a timeout),
 *   the run is aborted: no resource call starts any more, those in flight
 *   finish and are recorded; then the stage is destroyed by a destroy-phase
 *   run. Either way the lock is released and, on the default store, empty
 *   state directories are removed.
 * - What could not be destroyed stays in the world and in state, and is named
 *   by a {@link TestCleanupError}; the next run of the file sweeps it again.
 *
 * @module
 */
import type { Application } from "../core/application.js";
import { runInScope } from "../core/context.js";
import { AlchemyError, DestroyError, toError, type DeleteFailure } from "../core/errors.js";
import { destroyTree } from "../core/finalize.js";
import type { DestroyStrategy } from "../core/options.js";
import type { Scope } from "../core/scope.js";
import { StageLockedError } from "../state/stage-lock.js";
import type { StateStoreFactory } from "../state/state-store.js";
import { sweepLeftovers } from "./crash-sweep.js";
import { startIsolated } from "./isolated-start.js";
import { claimStage, hasClaims, releaseStage, type StoreKey } from "./stage-claims.js";
import { removeEmptyStateDirs } from "./state-residue.js";
import { TestCleanupError } from "./test-cleanup-error.js";

/** Everything one test scope needs to know. */
export interface EphemeralRunSettings {
  appName: string;
  /** The test file relative to the working directory, for messages. */
  file: string;
  /** The stage to use, or to start from when it is derived. */
  stage: string;
  /** True when the user chose the stage: it is used as is, or not at all. */
  explicitStage: boolean;
  store: StoreKey;
  factory: StateStoreFactory;
  /** Directory of the default filesystem store, whose empty directories are removed after a clean run. */
  stateDir?: string;
  destroyStrategy?: DestroyStrategy;
  quiet: boolean;
  /** Providers on their local runtime; undefined: as $ALCHEMY_LOCAL says. */
  local?: boolean;
}

/** Derived stages tried before giving up (`<stage>`, `<stage>-2`, ...). */
const MAX_STAGE_ATTEMPTS = 100;
/** How long a clean-up run waits for the stage lock (held briefly by a sweep elsewhere). */
const CLEANUP_LOCK_TIMEOUT_MS = 30_000;

interface Started {
  app: Application;
  stage: string;
}

/** One test scope, from start to clean-up. */
export class EphemeralRun {
  private readonly controller = new AbortController();
  private started?: Promise<Started | undefined>;
  private cleaning?: Promise<TestCleanupError | undefined>;
  private fnSettled = false;

  constructor(private readonly settings: EphemeralRunSettings) {}

  /**
   * Runs `fn` in the stage scope, cleans up, then settles as `fn` did: `fn`'s
   * own error (the same object) if it threw, else a {@link TestCleanupError}
   * if something was left behind, else `fn`'s result. When both failed, what
   * was left behind is printed with console.error.
   */
  async run<T>(fn: (scope: Scope) => Promise<T> | T): Promise<T> {
    this.started ??= this.start();
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      const started = await this.started;
      if (!started) throw new AlchemyError(`The test ended before its scope in ${this.settings.file} started; the function did not run.`);
      const scope = started.app.stage;
      outcome = { ok: true, value: await runInScope(scope, () => fn(scope)) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.fnSettled = true;
    const leak = await this.cleanUp();
    if (!outcome.ok) {
      if (leak) console.error(`${leak.message}\n(The test had already failed; its own error is the one reported.)`);
      throw outcome.error;
    }
    if (leak) throw leak;
    return outcome.value;
  }

  /** Stops the run: no resource call starts any more; clean-up happens at {@link finished}. */
  abort(): void {
    this.controller.abort();
  }

  /**
   * The test ended (vitest's onTestFinished). If the function is still running
   * (the test timed out, or the call was not awaited), the run is aborted and
   * cleaned up now. Rejects with the {@link TestCleanupError} when the test's
   * body can no longer report it: the function was still running, or the test
   * timed out (`timedOut`) while clean-up was under way.
   */
  async finished(timedOut: boolean): Promise<void> {
    const abandoned = !this.fnSettled;
    if (abandoned) this.abort();
    const leak = await this.cleanUp();
    if (leak && (abandoned || timedOut)) throw leak;
  }

  private async start(): Promise<Started | undefined> {
    const s = this.settings;
    await sweepLeftovers({ store: s.store, factory: s.factory, appName: s.appName, file: s.file, destroyStrategy: s.destroyStrategy, local: s.local });
    for (let attempt = 1; attempt <= MAX_STAGE_ATTEMPTS; attempt++) {
      if (this.controller.signal.aborted) return undefined;
      const stage = attempt === 1 ? s.stage : `${s.stage}-${attempt}`;
      if (!claimStage(s.store, s.appName, stage)) {
        if (s.explicitStage) {
          throw new AlchemyError(
            `Stage "${stage}" of ${s.file} is already used by another test scope of this process. ` +
              `Give each test its own stage option, or leave the option out: a stage is then made from the test's name, and made unique.`,
          );
        }
        continue;
      }
      let app: Application;
      try {
        app = await startIsolated(s.appName, {
          stage,
          phase: "up",
          stateStore: s.factory,
          // A test scope is thrown away at the end: a history would outlive it.
          historyLimit: 0,
          destroyStrategy: s.destroyStrategy,
          local: s.local,
          lockTimeoutMs: 0,
          quiet: s.quiet,
          onEvent: s.quiet ? () => undefined : undefined,
          signal: this.controller.signal,
        });
      } catch (error) {
        releaseStage(s.store, s.appName, stage);
        if (error instanceof StageLockedError && !s.explicitStage) continue; // a live run elsewhere has it
        throw error;
      }
      // A test starts from nothing: a stage still holding what an earlier run could not destroy is not used.
      const leftovers = await holdsRecords(app).catch(async (error: unknown) => {
        await app.release();
        releaseStage(s.store, s.appName, stage);
        throw error;
      });
      if (!leftovers) return { app, stage };
      await app.release();
      releaseStage(s.store, s.appName, stage);
      if (s.explicitStage) {
        throw new AlchemyError(
          `Stage "${stage}" of ${s.file} still holds resources an earlier run could not destroy, so the test cannot start from an empty stage ` +
            `(\`alchemy state list --app ${s.appName} --stage ${stage}\` lists them). Fix what kept them from being deleted and run the file again: ` +
            "its first test scope destroys them. Or choose another stage.",
        );
      }
    }
    throw new AlchemyError(
      `No free stage for a test of ${s.file}: "${s.stage}" and ${MAX_STAGE_ATTEMPTS - 1} numbered variants are all in use. ` +
        "Check for runs stuck holding them (alchemy state stages, alchemy unlock).",
    );
  }

  private cleanUp(): Promise<TestCleanupError | undefined> {
    this.cleaning ??= (async () => {
      const started = await this.started?.catch(() => undefined);
      if (!started) return undefined;
      const s = this.settings;
      let failures: DeleteFailure[];
      try {
        failures = await destroyAndRelease(started.app, s);
      } finally {
        releaseStage(s.store, s.appName, started.stage);
      }
      if (failures.length > 0) return new TestCleanupError(s.file, `${s.appName}/${started.stage}`, failures);
      if (s.stateDir) removeEmptyStateDirs(s.stateDir, s.appName, started.stage, !hasClaims(s.store));
      return undefined;
    })();
    return this.cleaning;
  }
}

/** Destroys the stage of `app` and lets the run go; resolves with what could not be deleted. */
async function destroyAndRelease(app: Application, s: EphemeralRunSettings): Promise<DeleteFailure[]> {
  const stagePath = app.stage.path;
  if (!app.context.stopping) {
    let failures: DeleteFailure[] = [];
    try {
      await app.stage.settle();
      await destroyTree(app.stage, "throw");
    } catch (error) {
      failures = failuresOf(error, stagePath);
    }
    await app.release();
    return failures;
  }
  // An aborted run starts no delete: once what was in flight is recorded and
  // the lock released, a destroy-phase run of its own does it.
  await app.release();
  try {
    const destroyer = await startIsolated(s.appName, {
      stage: app.stage.name,
      phase: "destroy",
      stateStore: s.factory,
      historyLimit: 0,
      destroyStrategy: s.destroyStrategy,
      local: s.local,
      lockTimeoutMs: CLEANUP_LOCK_TIMEOUT_MS,
      quiet: true,
      onEvent: s.quiet ? () => undefined : undefined,
    });
    await destroyer.finalize();
    return [];
  } catch (error) {
    return failuresOf(error, stagePath);
  }
}

/** True when the stage of `app` holds any record, in any of its scopes. */
async function holdsRecords(app: Application): Promise<boolean> {
  return (await app.stage.records()).size > 0 || (await app.stage.storedChildren()).length > 0;
}

function failuresOf(error: unknown, stagePath: string): DeleteFailure[] {
  return error instanceof DestroyError ? error.failures : [{ fqn: stagePath, error: toError(error) }];
}
