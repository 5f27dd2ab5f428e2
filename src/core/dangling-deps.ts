/**
 * Deps that name no record of the stage: left by state edited by hand or
 * imported, or by `alchemy state rm` of a resource that others used. They
 * cannot order anything, so a delete ignores them and says so, and a deploy
 * drops them from the records that hold them.
 *
 * @module
 */
import type { State } from "../state/state-store.js";
import type { RunContext } from "./run-context.js";
import type { Scope } from "./scope.js";
import { walkTree } from "./tree.js";

/** A dep of `state` (or of its replaced instance `replacedIndex`) that names no record. */
export interface DanglingDep {
  state: State;
  dep: string;
  replacedIndex?: number;
}

/** (record, dep) pairs already reported, per run: one warning each. */
const reported = new WeakMap<RunContext, Set<string>>();

/**
 * The deps of `state` and of its replaced instances that name an fqn inside
 * the stage `stagePath` that is not in `existing`. Deps outside the stage are
 * not this stage's to judge, and a record of another stage is never read here.
 *
 * @example
 * danglingDeps(state, new Set(["app/dev/net"]), "app/dev"); // [{ state, dep: "app/dev/ghost" }]
 */
export function danglingDeps(state: State, existing: ReadonlySet<string>, stagePath: string): DanglingDep[] {
  const missing = (dep: string) => dep.startsWith(stagePath + "/") && !existing.has(dep);
  const found: DanglingDep[] = state.deps.filter(missing).map((dep) => ({ state, dep }));
  state.replaced?.forEach((instance, replacedIndex) => {
    for (const dep of instance.deps.filter(missing)) found.push({ state, dep, replacedIndex });
  });
  return found;
}

/**
 * Warns once per run about `dangling` in the stage `stagePath`, ending with
 * `consequence` ("that dependency is ignored.").
 */
export function reportDangling(context: RunContext, stagePath: string, dangling: DanglingDep, consequence: string): void {
  const { state, dep, replacedIndex } = dangling;
  const seen = reported.get(context) ?? new Set<string>();
  reported.set(context, seen);
  const key = `${state.fqn}\0${replacedIndex ?? ""}\0${dep}`;
  if (seen.has(key)) return;
  seen.add(key);
  const where = replacedIndex === undefined ? "its deps" : `the deps of its replaced instance ${replacedIndex}`;
  context.warn(`The record "${state.fqn}" names "${dep}" in ${where}, but stage "${stagePath}" has no record "${dep}"; ${consequence}`);
}

/**
 * The fqns of every record at and below `stage`, and the records with their
 * scopes, as the run sees them now.
 */
export async function stageRecords(stage: Scope): Promise<{ existing: Set<string>; records: Array<{ scope: Scope; state: State }> }> {
  const existing = new Set<string>();
  const records: Array<{ scope: Scope; state: State }> = [];
  await walkTree(stage, (scope, found) => {
    for (const state of found.values()) {
      existing.add(state.fqn);
      records.push({ scope, state });
    }
  });
  return { existing, records };
}

/**
 * Rewrites every record of the stage whose deps (or whose replaced instances'
 * deps) name no record of the stage, without those deps, and warns about each.
 * Run at the end of a successful deploy: a resource left unchanged is not
 * written otherwise, so this is how such deps go away.
 */
export async function dropDanglingDeps(stage: Scope): Promise<void> {
  const { existing, records } = await stageRecords(stage);
  await Promise.all(
    records.map(async ({ scope, state }) => {
      const dangling = danglingDeps(state, existing, stage.path);
      if (dangling.length === 0) return;
      for (const d of dangling) reportDangling(stage.context, stage.path, d, "the deploy dropped it from the record.");
      const keep = (dep: string) => !dangling.some((d) => d.dep === dep);
      const replaced = state.replaced?.map((instance) => ({ ...instance, deps: instance.deps.filter(keep) }));
      await scope.write({ ...state, deps: state.deps.filter(keep), ...(replaced ? { replaced } : {}), seq: state.seq + 1 });
    }),
  );
}
