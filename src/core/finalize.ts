/**
 * Finalization: deleting what a scope holds in state that the program no
 * longer declares (orphans), plus earlier instances of replaced resources.
 *
 * Rules that keep it safe:
 * - After any failure in the run, finalize deletes nothing: a failed or partial
 *   evaluation must never look like "removed from code".
 * - It walks only the scope's own subtree, which lies inside one stage.
 * - In a deploy (and a plan), a nested or resource scope deletes nothing
 *   itself: its orphans are handed to the stage, which deletes every orphan
 *   of the run at once at its own finalize, after the whole program ran. So
 *   the checks below see every deletion of the run before any happens.
 * - Nothing is deleted when a record to delete is protected (the run fails
 *   naming it), or when a deploy would delete more than `maxDeletes` of the
 *   stage (see deletion-guard.ts). Retained records are forgotten instead.
 * - An orphan that a record elsewhere in the stage still depends on is kept
 *   until the stage is finalized, when that record has been updated or is
 *   itself deleted first.
 * - At the end of a deploy that did not fail, deps naming no record of the
 *   stage are dropped from the records that hold them (with a warning): an
 *   unchanged resource's record is not rewritten otherwise.
 *
 * @module
 */
import { dropDanglingDeps } from "./dangling-deps.js";
import { itemKey, type DeletionItem } from "./deletion-item.js";
import { deleteItems } from "./destroy.js";
import { massDeletion } from "./deletion-guard.js";
import { DestroyError, ScopeError } from "./errors.js";
import { assertValidName } from "./names.js";
import type { Scope } from "./scope.js";
import { childNames, collectTree, itemsOf, stageOf, walkTree } from "./tree.js";

/** Finalizes one scope (called once, through `Scope.finalize`). */
export async function finalizeScope(scope: Scope): Promise<void> {
  await scope.settle();
  const context = scope.context;
  const phase = context.options.phase;
  // A refresh records what it read of declared resources; it deletes nothing.
  if (phase === "read" || phase === "refresh") return;
  if (phase === "destroy") {
    if (scope.kind === "stage") await destroyTree(scope, "run");
    return;
  }
  if (context.failed) {
    if (scope.kind === "stage") {
      context.warn(`Stage "${scope.path}": the run failed, so no orphaned resource was deleted. Fix the error and deploy again.`);
    }
    return;
  }
  const items = await collectOrphans(scope);
  if (scope.kind !== "stage") {
    context.deferred.push(...items);
    return;
  }
  items.push(...context.deferred.splice(0));
  items.push(...(await leftoverReplacements(scope, items)));
  const all = dedupe(items);
  const tooMany = await massDeletion(scope, all);
  if (tooMany && phase === "up") throw tooMany;
  const outcome = await deleteItems(scope, all, tooMany ? "maxDeletes" : undefined);
  if (tooMany) throw tooMany;
  context.deleteFailures.push(...outcome.failures);
  if (phase === "up") await dropDanglingDeps(scope);
}

/** `scope.finalizeNested(name)`: orphan clean-up of one nested block only. */
export async function finalizeNestedScope(parent: Scope, name: string): Promise<void> {
  assertValidName(name, "scope", parent.path);
  const child = parent.children.get(name);
  if (child?.ran) return child.finalize();
  if (parent.declared.has(name)) {
    throw new ScopeError(`"${name}" in "${parent.path}" is a resource, not a nested scope; use alchemy.destroy(resource) to delete it.`, parent.path);
  }
  if (parent.context.failed) {
    parent.context.warn(`Scope "${parent.path}/${name}": the run failed, so finalizeNested deleted nothing.`);
    return;
  }
  const ghost = parent.existingChild(name, false);
  const outcome = await deleteItems(stageOf(parent), await collectTree(ghost));
  if (outcome.failures.length) throw new DestroyError(outcome.failures);
}

/**
 * Deletes everything under `scope` in dependency order. Failures are thrown as
 * one {@link DestroyError} for an explicit destroy, or kept for the end of the
 * run when the stage is destroyed by the destroy phase.
 */
export async function destroyTree(scope: Scope, reportAs: "throw" | "run"): Promise<void> {
  const outcome = await deleteItems(stageOf(scope), await collectTree(scope));
  if (!outcome.failures.length) return;
  if (reportAs === "throw") throw new DestroyError(outcome.failures);
  scope.context.deleteFailures.push(...outcome.failures);
}

/** Records not declared this run, and child scopes neither run nor owned by a declared resource. */
async function collectOrphans(scope: Scope): Promise<DeletionItem[]> {
  const records = await scope.records();
  const items: DeletionItem[] = [];
  for (const [id, state] of records) {
    items.push(...(scope.declared.has(id) ? itemsOf(scope, state).slice(1) : itemsOf(scope, state)));
  }
  for (const name of await childNames(scope)) {
    if (scope.declared.has(name)) continue;
    const child = scope.existingChild(name, records.has(name));
    if (child.ran) continue;
    items.push(...(await collectTree(child)));
  }
  return items;
}

/** Replaced instances still recorded anywhere in the stage, e.g. in the scope of a skipped resource. */
async function leftoverReplacements(stage: Scope, already: DeletionItem[]): Promise<DeletionItem[]> {
  const items: DeletionItem[] = [];
  await walkTree(stage, (scope, records) => {
    for (const state of records.values()) if (state.replaced?.length) items.push(...itemsOf(scope, state).slice(1));
  });
  const known = new Set(already.map(itemKey));
  return items.filter((i) => !known.has(itemKey(i)));
}

function dedupe(items: DeletionItem[]): DeletionItem[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const key = itemKey(i);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
