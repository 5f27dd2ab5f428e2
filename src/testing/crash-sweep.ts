/**
 * Collecting what crashed test runs left behind. A test process killed in the
 * middle of a test (SIGKILL, OOM, a CI job cancelled) leaves its resources in
 * the world, their records in state and its stage lock in place. Before the
 * first test of a file runs in a process, every recorded stage of that file's
 * application is destroyed, unless a live run holds it.
 *
 * @module
 */
import type { Application } from "../core/application.js";
import { DestroyError, toError, type DeleteFailure } from "../core/errors.js";
import type { DestroyStrategy } from "../core/options.js";
import { StageLockedError } from "../state/stage-lock.js";
import type { StateStoreFactory } from "../state/state-store.js";
import { startIsolated } from "./isolated-start.js";
import { claimStage, isStageClaimed, releaseStage, type StoreKey } from "./stage-claims.js";

/** Whose leftovers to collect. */
export interface SweepTarget {
  store: StoreKey;
  factory: StateStoreFactory;
  appName: string;
  /** The test file, for messages. */
  file: string;
  destroyStrategy?: DestroyStrategy;
  /** Providers on their local runtime (as the test that left the stage). */
  local?: boolean;
}

const sweeps = new Map<StoreKey, Map<string, Promise<void>>>();

/**
 * Destroys, once per process, application and store, every recorded stage of
 * `target.appName` that no run holds: neither a test of this process nor a
 * live run elsewhere (their stage lock says so; the lock of a dead process is
 * taken over). What was destroyed is reported on stderr, and so is what could
 * not be; never rejects, so a failed sweep fails no test.
 *
 * @example
 * await sweepLeftovers({ store: dir, factory, appName: "src-bucket.test.ts", file: "src/bucket.test.ts" });
 */
export function sweepLeftovers(target: SweepTarget): Promise<void> {
  let apps = sweeps.get(target.store);
  if (!apps) sweeps.set(target.store, (apps = new Map()));
  let sweep = apps.get(target.appName);
  if (!sweep) apps.set(target.appName, (sweep = sweepStages(target)));
  return sweep;
}

async function sweepStages(target: SweepTarget): Promise<void> {
  const { store, appName, file } = target;
  let stages: string[];
  try {
    stages = await recordedStages(target.factory, appName);
  } catch (error) {
    console.warn(`alchemy.test: could not look for what crashed runs of ${file} left: ${toError(error).message}`);
    return;
  }
  const destroyed: string[] = [];
  const failures: DeleteFailure[] = [];
  const free = stages.filter((stage) => !isStageClaimed(store, appName, stage) && claimStage(store, appName, stage));
  await Promise.all(
    free.map(async (stage) => {
      try {
        await destroyStage(target, stage, (fqn) => destroyed.push(fqn));
      } catch (error) {
        if (error instanceof StageLockedError) return; // a live run owns it
        if (error instanceof DestroyError) failures.push(...error.failures);
        else failures.push({ fqn: `${appName}/${stage}`, error: toError(error) });
      } finally {
        releaseStage(store, appName, stage);
      }
    }),
  );
  if (destroyed.length > 0) {
    console.warn(
      `alchemy.test: destroyed ${destroyed.length} resource(s) left by a crashed or failed run of ${file}: ${destroyed.sort().join(", ")}`,
    );
  }
  if (failures.length > 0) {
    console.warn(
      `alchemy.test: could not destroy ${failures.length} resource(s) left by an earlier run of ${file}; they stay in state and are tried again next run:\n` +
        failures.map((f) => `  - ${f.fqn}: ${f.error.message}`).join("\n"),
    );
  }
}

/** Names of the stages of `appName` that hold at least one record. */
async function recordedStages(factory: StateStoreFactory, appName: string): Promise<string[]> {
  const root = factory({ chain: [appName] });
  try {
    await root.init?.();
    return await root.listScopes();
  } finally {
    await root.deinit?.();
  }
}

/**
 * Destroys stage `stage` in a destroy-phase run that does not wait for its
 * lock; `onDeleted` sees each resource deleted.
 *
 * @throws StageLockedError when a live run holds the stage.
 * @throws DestroyError naming what could not be deleted.
 */
async function destroyStage(target: SweepTarget, stage: string, onDeleted: (fqn: string) => void): Promise<void> {
  const app: Application = await startIsolated(target.appName, {
    stage,
    phase: "destroy",
    historyLimit: 0,
    stateStore: target.factory,
    destroyStrategy: target.destroyStrategy,
    local: target.local,
    lockTimeoutMs: 0,
    quiet: true,
    onEvent: (event) => {
      if (event.action === "delete" && event.status === "done") onDeleted(event.fqn);
    },
  });
  await app.finalize();
}
