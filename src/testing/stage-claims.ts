/**
 * Which stages the test scopes of this process are using, per state store and
 * application. A test claims its stage before starting its application and
 * gives it back after clean-up, so two tests of one process never share a
 * stage, and the sweep of crash leftovers never touches a stage in use. Other
 * processes are kept apart by the stage lock.
 *
 * @module
 */
import type { StateStoreFactory } from "../state/state-store.js";

/**
 * What identifies a state store: the factory given as `stateStore`, or the
 * state directory of the default filesystem store.
 */
export type StoreKey = StateStoreFactory | string;

const claimed = new Map<StoreKey, Map<string, Set<string>>>();

function stagesOf(store: StoreKey, app: string, create: true): Set<string>;
function stagesOf(store: StoreKey, app: string, create?: false): Set<string> | undefined;
function stagesOf(store: StoreKey, app: string, create = false): Set<string> | undefined {
  let apps = claimed.get(store);
  if (!apps) {
    if (!create) return undefined;
    claimed.set(store, (apps = new Map()));
  }
  let stages = apps.get(app);
  if (!stages && create) apps.set(app, (stages = new Set()));
  return stages;
}

/**
 * Claims stage `stage` of `app` in `store` for this process; false when a
 * test (or the sweep) of this process already holds it.
 *
 * @example
 * if (claimStage(dir, "bucket.test.ts", "uploads")) { ...; releaseStage(dir, "bucket.test.ts", "uploads"); }
 */
export function claimStage(store: StoreKey, app: string, stage: string): boolean {
  const stages = stagesOf(store, app, true);
  if (stages.has(stage)) return false;
  stages.add(stage);
  return true;
}

/** Gives back a stage claimed with {@link claimStage}. */
export function releaseStage(store: StoreKey, app: string, stage: string): void {
  const apps = claimed.get(store);
  const stages = apps?.get(app);
  stages?.delete(stage);
  if (stages?.size === 0) apps!.delete(app);
  if (apps?.size === 0) claimed.delete(store);
}

/** True when this process holds stage `stage` of `app` in `store`. */
export function isStageClaimed(store: StoreKey, app: string, stage: string): boolean {
  return stagesOf(store, app)?.has(stage) ?? false;
}

/** True when this process holds any stage in `store`. */
export function hasClaims(store: StoreKey): boolean {
  return claimed.has(store);
}
