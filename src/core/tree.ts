/**
 * Walking the state held under a scope: its records, and those of every
 * child scope found in the store or met in this run.
 *
 * @module
 */
import type { State } from "../state/state-store.js";
import type { DeletionItem } from "./deletion-item.js";
import type { Scope } from "./scope.js";

/** Names of the child scopes of `scope`: in the store, or opened this run. */
export async function childNames(scope: Scope): Promise<string[]> {
  const names = new Set(await scope.storedChildren());
  // A resource scope counts only if its handler declared something in it.
  for (const [name, child] of scope.children) if (child.ran && (child.kind !== "resource" || child.declared.size > 0)) names.add(name);
  return [...names];
}

/** Calls `visit` for every scope at and below `scope`, parents first. */
export async function walkTree(scope: Scope, visit: (scope: Scope, records: Map<string, State>) => void): Promise<void> {
  const records = await scope.records();
  visit(scope, records);
  const names = await childNames(scope);
  await Promise.all(names.map((name) => walkTree(scope.existingChild(name, records.has(name)), visit)));
}

/** Everything a delete of the whole subtree at `scope` must delete. */
export async function collectTree(scope: Scope): Promise<DeletionItem[]> {
  const items: DeletionItem[] = [];
  await walkTree(scope, (s, records) => {
    for (const state of records.values()) items.push(...itemsOf(s, state));
  });
  return items;
}

/** A record and the replaced instances it still carries. */
export function itemsOf(scope: Scope, state: State): DeletionItem[] {
  const items: DeletionItem[] = [{ scope, state }];
  state.replaced?.forEach((_, replacedIndex) => items.push({ scope, state, replacedIndex }));
  return items;
}

/** The stage scope above (or at) `scope`. */
export function stageOf(scope: Scope): Scope {
  let s: Scope = scope;
  while (s.kind !== "stage" && s.parent) s = s.parent;
  return s;
}
