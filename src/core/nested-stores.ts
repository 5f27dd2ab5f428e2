/**
 * Nested scopes of a stage that keep their records in a state store other
 * than the stage's own (`alchemy.run(name, { stateStore }, fn)`). The stage's
 * store cannot list them, so the stage's metadata does, under
 * `nestedStores: { "<path below the stage>": <records> }`, as of the end of
 * the last deploy or destroy. That keeps the metadata (and with it the
 * secrets key their values are sealed with) alive while they hold records,
 * and lets a destroy count them before the program has opened their stores.
 *
 * @module
 */
import type { StageMeta } from "../state/state-store.js";
import type { DeletionItem } from "./deletion-item.js";
import type { Scope } from "./scope.js";
import { walkTree } from "./tree.js";

/** Records held under each nested scope on another store, keyed by its path below the stage (`vault`, `a/b`). */
export type NestedStores = Record<string, number>;

/**
 * The `nestedStores` entry of a stage's metadata; entries that are not a
 * path and a positive count are left out.
 *
 * @example
 * nestedStoresOf({ nestedStores: { vault: 2 } }); // { vault: 2 }
 * nestedStoresOf(undefined); // {}
 */
export function nestedStoresOf(meta: StageMeta | undefined): NestedStores {
  const entry = meta?.nestedStores;
  if (typeof entry !== "object" || entry === null) return {};
  const out: NestedStores = {};
  for (const [path, records] of Object.entries(entry)) if (path && typeof records === "number" && records > 0) out[path] = records;
  return out;
}

/**
 * The records of every nested scope on another store that this run opened
 * (its block ran), 0 for one left empty, keyed by path below `stage`. Records
 * of a deeper scope on yet another store count for that scope only.
 *
 * @example
 * await recordsInNestedStores(app.stage); // Map { "vault" => 1 }
 */
export async function recordsInNestedStores(stage: Scope): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const root of storeRoots(stage)) {
    let records = 0;
    await walkTree(root, (scope, held) => {
      if (storeRootOf(scope) === root) records += held.size;
    });
    counts.set(belowStage(root), records);
  }
  return counts;
}

/**
 * Records the stage's metadata lists under nested scopes on other stores that
 * `walked` (the items of a walk of the stage) does not already include: what
 * a destroy will find once the program opens those stores.
 *
 * @example
 * const items = await collectTree(app.stage);
 * items.length + recordsNotWalked(meta, items);
 */
export function recordsNotWalked(meta: StageMeta | undefined, walked: readonly DeletionItem[]): number {
  const seen = new Set(walked.map((item) => belowStage(item.scope)));
  let records = 0;
  for (const [path, count] of Object.entries(nestedStoresOf(meta))) {
    if (![...seen].some((p) => p === path || p.startsWith(`${path}/`))) records += count;
  }
  return records;
}

/**
 * The warning for a nested scope on another store that holds records but was
 * not opened by this run: nothing in it was deleted, and the stage keeps its
 * metadata for it.
 */
export function unopenedNestedStoreWarning(stage: Scope, path: string, records: number): string {
  const name = path.split("/").at(-1)!;
  return (
    `Nested scope "${stage.path}/${path}" keeps ${records} record(s) in a state store this run did not open ` +
    `(its alchemy.run("${name}", { stateStore }, ...) block did not run), so nothing in it was deleted, and stage "${stage.path}" keeps its metadata ` +
    `(and its secrets key) for it. To delete them, run the block once more with its stateStore and nothing declared in it; to keep them, put the block back.`
  );
}

/** Scopes met in this run below `scope` whose store is not their parent's. */
function storeRoots(scope: Scope, out: Scope[] = []): Scope[] {
  for (const child of scope.children.values()) {
    if (child.storeFactory !== scope.storeFactory) out.push(child);
    storeRoots(child, out);
  }
  return out;
}

/** The nearest scope at or above `scope` whose store is not its parent's (the stage when none is). */
function storeRootOf(scope: Scope): Scope {
  let s = scope;
  while (s.kind !== "stage" && s.parent && s.storeFactory === s.parent.storeFactory) s = s.parent;
  return s;
}

function belowStage(scope: Scope): string {
  return scope.chain.slice(2).join("/");
}
