/**
 * Deleting a set of resources in dependency order.
 *
 * Order: a resource is deleted only after every resource that depends on it
 * (its `deps` name it) and every resource in its own resource scope. Under
 * "sequential" one delete runs at a time; under "parallel" up to `concurrency`
 * independent deletes run at once. A record outside the set that still depends
 * on a member keeps that member (and what it needs) alive.
 *
 * Lifecycle contract of a delete: every record of the set is written
 * `deleting` (one group commit) before any handler runs; then, in order, each
 * handler's delete runs and its record is removed. If a handler fails, its
 * record stays `deleting` (the resource may be half gone; the next run deletes
 * it again, or re-creates it if the program declares it again), everything it
 * depends on is kept and written back as it was, and the failure is reported;
 * the rest goes on.
 *
 * Protected records (`protect: true`) stop the whole set before anything is
 * marked: {@link ProtectedResourceError} names them. Retained records
 * (`retain: true`) take their place in the order but are only forgotten:
 * never marked `deleting`, their delete handler not called.
 *
 * State not written by the engine: a dep naming no record of the stage orders
 * nothing and is reported as a warning; members whose deps form a cycle can
 * never go first, so they (and what they still need) are kept as they are and
 * reported as failures naming the cycle, before anything is marked.
 *
 * @module
 */
import type { State } from "../state/state-store.js";
import { ProtectedResourceError, toError, type DeleteFailure } from "./errors.js";
import { danglingDeps, reportDangling } from "./dangling-deps.js";
import { isProtected, itemKey, protectedAmong, replacedKey, type DeletionItem } from "./deletion-item.js";
import { findCycles } from "./dependency-cycles.js";
import { invokeHandler } from "./handler-context.js";
import { providerOf } from "./providers.js";
import type { Scope } from "./scope.js";
import { walkTree } from "./tree.js";

/** Outcome of {@link deleteItems}. */
export interface DeleteOutcome {
  failures: DeleteFailure[];
}

interface Node {
  item: DeletionItem;
  key: string;
  /** Members that must be deleted before this one. */
  waitingOn: number;
  /** Members that wait on this one. */
  unblocks: string[];
  usedBy?: string[];
}

/**
 * Deletes `items` in dependency order (or, in the plan phase, reports them).
 *
 * @param stage the stage whose records are checked for outside dependents
 * @param refused in a plan: deploy will refuse these deletions for this reason
 * @throws ProtectedResourceError before anything is deleted (or, in a plan, after reporting) when an item is protected
 */
export async function deleteItems(stage: Scope, items: DeletionItem[], refused?: "maxDeletes"): Promise<DeleteOutcome> {
  const context = stage.context;
  const options = context.options;
  if (items.length === 0) return { failures: [] };
  const protectedFqns = protectedAmong(items);
  if (options.phase === "plan") {
    for (const item of items) {
      const { state, replacedIndex } = item;
      context.emit({
        fqn: state.fqn,
        kind: state.kind,
        action: "delete",
        status: "planned",
        ...(replacedIndex !== undefined ? { note: "replaced instance" } : {}),
        ...(state.retain ? { retain: true } : {}),
        ...(isProtected(item) ? { protect: true, refused: "protected" as const } : refused && !state.retain && replacedIndex === undefined ? { refused } : {}),
      });
    }
  }
  if (protectedFqns.length) throw new ProtectedResourceError(protectedFqns, "delete");
  if (options.phase === "plan") return { failures: [] };
  const nodes = buildGraph(items);
  const existing = await markOutsideDependents(stage, nodes);
  reportDanglingDeps(stage, nodes, existing);

  const failures: DeleteFailure[] = [];
  const held = new Set<string>();
  // Members of a deps cycle can never go first, nor can what they still need:
  // they are kept as they are, and the cycle is named.
  const { members, behind } = findCycles(nodes);
  for (const [key, cycle] of members) {
    held.add(key);
    failures.push({ fqn: nodes.get(key)!.item.state.fqn, error: cycleError(cycle, nodes) });
  }
  for (const [key, { after, cycle }] of behind) {
    held.add(key);
    const error = new Error(`kept because ${fqnOf(after, nodes)}, which is in the dependency cycle ${showCycle(cycle, nodes)}, still needs it`);
    failures.push({ fqn: nodes.get(key)!.item.state.fqn, error });
  }
  // Members used from outside, and everything that must outlive them, are held.
  const hold = (key: string, reason: (fqn: string) => Error) => {
    const stack = [key];
    while (stack.length) {
      const k = stack.pop()!;
      if (held.has(k)) continue;
      held.add(k);
      const node = nodes.get(k)!;
      failures.push({ fqn: node.item.state.fqn, error: reason(node.item.state.fqn) });
      stack.push(...node.unblocks);
    }
  };
  for (const node of nodes.values()) {
    if (node.usedBy && !held.has(node.key)) {
      const users = node.usedBy;
      hold(node.key, (fqn) =>
        fqn === node.item.state.fqn
          ? new Error(`still used by ${users.join(", ")}; remove the reference or delete those first`)
          : new Error(`kept because ${node.item.state.fqn} is still used by ${users.join(", ")}`),
      );
    }
  }

  const ready: Node[] = [...nodes.values()].filter((n) => n.waitingOn === 0 && !held.has(n.key));
  ready.sort((a, b) => (a.key < b.key ? 1 : -1));
  const limit = options.destroyStrategy === "parallel" ? options.concurrency : 1;
  const done = new Set<string>();
  const failed = new Set<string>();

  // Every record about to be deleted is marked "deleting" up front, in one
  // group commit, before any handler runs: after a crash, a resource whose
  // handler may have run is never mistaken for a live one. Records of deleted
  // resources are then removed in the background: the next delete need not wait
  // for that write (a crash before it lands leaves the record "deleting", and
  // the next run deletes again, which handlers tolerate).
  const marked = [...nodes.values()].filter((n) => !held.has(n.key) && n.item.replacedIndex === undefined && !n.item.state.retain);
  const original = new Map(marked.map((n) => [n.key, n.item.state]));
  try {
    await Promise.all(marked.map(({ item: { scope, state } }) => scope.write({ ...state, status: "deleting", seq: state.seq + 1 })));
  } catch (error) {
    // Nothing was deleted; put back what was marked, and report why.
    await restore(marked, original);
    for (const node of marked) failures.push({ fqn: node.item.state.fqn, error: toError(error) });
    return { failures };
  }
  const removals: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    let inFlight = 0;
    const pump = () => {
      while (inFlight < limit && ready.length && !context.stopping) {
        const node = ready.pop()!;
        inFlight++;
        deleteOne(node.item).then(
          ({ removal }) => {
            done.add(node.key);
            removals.push(
              removal.catch((error) => {
                failures.push({ fqn: node.item.state.fqn, error: toError(error) });
              }),
            );
            for (const k of node.unblocks) {
              const next = nodes.get(k)!;
              if (--next.waitingOn === 0 && !held.has(k)) ready.push(next);
            }
          },
          (error) => {
            failed.add(node.key);
            failures.push({ fqn: node.item.state.fqn, error: toError(error) });
          },
        ).finally(() => {
          inFlight--;
          pump();
        });
      }
      if (inFlight === 0 && (ready.length === 0 || context.stopping)) resolve();
    };
    pump();
  });
  await Promise.all(removals);

  const untouched: Node[] = [];
  for (const node of nodes.values()) {
    if (done.has(node.key) || failed.has(node.key) || held.has(node.key)) continue;
    untouched.push(node);
    failures.push({
      fqn: node.item.state.fqn,
      error:
        context.interruption(node.item.state.fqn) ??
        new Error("not deleted because a resource that depends on it could not be deleted"),
    });
  }
  // Resources whose delete never started are as they were.
  await restore(untouched, original);
  return { failures };
}

/** Writes back the records of `nodes` as they were before they were marked "deleting". */
async function restore(nodes: Node[], original: Map<string, State>): Promise<void> {
  await Promise.allSettled(
    nodes.map(async ({ key, item: { scope } }) => {
      const before = original.get(key);
      const current = (await scope.records()).get(before?.id ?? "");
      if (before && current) await scope.write({ ...before, seq: current.seq + 1 });
    }),
  );
}

function buildGraph(items: DeletionItem[]): Map<string, Node> {
  const nodes = new Map<string, Node>();
  for (const item of items) {
    const key = itemKey(item);
    if (!nodes.has(key)) nodes.set(key, { item, key, waitingOn: 0, unblocks: [] });
  }
  const edge = (first: Node, then: string) => {
    const later = nodes.get(then);
    if (!later || later === first) return;
    first.unblocks.push(then);
    later.waitingOn++;
  };
  for (const node of nodes.values()) {
    const { state, replacedIndex } = node.item;
    const deps = replacedIndex === undefined ? state.deps : state.replaced![replacedIndex].deps;
    // A resource goes before what it depends on, including earlier instances of
    // it that are being deleted too (an old child before its old parent)...
    for (const dep of deps) {
      edge(node, dep);
      for (let i = 0; nodes.has(replacedKey(dep, i)); i++) edge(node, replacedKey(dep, i));
    }
    // ...and before the resource whose scope holds it.
    const parts = state.fqn.split("/");
    for (let i = parts.length - 1; i > 2; i--) edge(node, parts.slice(0, i).join("/"));
    // Replaced instances go first, one at a time, before their current record.
    if (replacedIndex !== undefined) {
      const nextReplaced = replacedKey(state.fqn, replacedIndex + 1);
      edge(node, nodes.has(nextReplaced) ? nextReplaced : state.fqn);
    }
  }
  return nodes;
}

/** Finds records outside the set whose deps name a member; resolves the fqns of every record of the stage. */
async function markOutsideDependents(stage: Scope, nodes: Map<string, Node>): Promise<Set<string>> {
  const existing = new Set<string>();
  await walkTree(stage, (_scope, records) => {
    for (const state of records.values()) {
      existing.add(state.fqn);
      if (nodes.has(state.fqn)) continue;
      for (const dep of state.deps) {
        const node = nodes.get(dep);
        if (node && node.item.replacedIndex === undefined) (node.usedBy ??= []).push(state.fqn);
      }
    }
  });
  return existing;
}

/** Warns about deps of members that name no record of the stage: they order nothing. */
function reportDanglingDeps(stage: Scope, nodes: Map<string, Node>, existing: Set<string>): void {
  for (const { item } of nodes.values()) {
    for (const dangling of danglingDeps(item.state, existing, stage.path)) {
      if (dangling.replacedIndex !== item.replacedIndex) continue;
      reportDangling(stage.context, stage.path, dangling, "that dependency is ignored.");
    }
  }
}

function cycleError(cycle: string[], nodes: Map<string, Node>): Error {
  return new Error(
    `not deleted: its deps form a cycle, ${showCycle(cycle, nodes)} (each is deleted before the next), so none of them can go first. ` +
      'A program never records a cycle: fix the "deps" of one of these records in the state store, ' +
      "or forget one with `alchemy state rm <fqn>` and delete its resource yourself.",
  );
}

/** `a -> b -> a`, by fqn (a replaced instance as `fqn (replaced instance i)`). */
function showCycle(cycle: string[], nodes: Map<string, Node>): string {
  return cycle.map((key) => fqnOf(key, nodes)).join(" -> ");
}

function fqnOf(key: string, nodes: Map<string, Node>): string {
  const { state, replacedIndex } = nodes.get(key)!.item;
  return replacedIndex === undefined ? state.fqn : `${state.fqn} (replaced instance ${replacedIndex})`;
}

/**
 * Records the delete, runs the handler, and resolves once the resource is gone
 * from the world, with the promise of its record's removal (or, for a replaced
 * instance, of the record's rewrite without it).
 */
async function deleteOne(item: DeletionItem): Promise<{ removal: Promise<void> }> {
  const { scope, replacedIndex } = item;
  const context = scope.context;
  const current: State = (await scope.records()).get(item.state.id) ?? item.state;
  const instance = replacedIndex === undefined ? current : item.state.replaced![replacedIndex];
  const retained = current.retain === true;
  const event = { fqn: current.fqn, kind: current.kind, action: "delete" as const, ...(retained ? { retain: true } : {}) };
  const failed = (error: unknown) => {
    context.emit({ ...event, status: "failed", error: toError(error) });
    throw error;
  };
  // A retained resource is only forgotten: its handler is not called.
  if (!retained) {
    context.emit({ ...event, status: "start" });
    try {
      await invokeHandler(providerOf(current.kind, current.fqn), {
        scope,
        id: current.id,
        fqn: current.fqn,
        kind: current.kind,
        phase: "delete",
        props: instance.props,
        previousProps: instance.props,
        previousOutput: instance.output,
      });
    } catch (error) {
      failed(error);
    }
  }
  const record = async () => {
    if (replacedIndex === undefined) return scope.remove(current.id);
    const latest = (await scope.records()).get(current.id) ?? current;
    const replaced = (latest.replaced ?? []).filter((r) => r !== instance && !sameInstance(r, instance));
    const { replaced: _dropped, ...rest } = latest;
    await scope.write({ ...rest, ...(replaced.length ? { replaced } : {}), seq: latest.seq + 1 });
  };
  const note = [replacedIndex === undefined ? "" : "replaced instance", retained ? "not deleted" : ""].filter(Boolean).join(", ") || undefined;
  // Wrapped: an async function would wait for a promise it returns.
  return { removal: record().then(() => context.emit({ ...event, status: "done", note }), failed) };
}

function sameInstance(a: { output: unknown; props: unknown }, b: { output: unknown; props: unknown }): boolean {
  return JSON.stringify(a.output) === JSON.stringify(b.output) && JSON.stringify(a.props) === JSON.stringify(b.props);
}
