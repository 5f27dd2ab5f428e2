/**
 * Finding the cycles in a delete order. The engine never records one (a
 * resource can only use outputs that exist before it), so a cycle comes from
 * state edited by hand or imported; its members can never go first, and
 * everything they still need would wait for them forever.
 *
 * @module
 */

/** A member of a delete order: `unblocks` lists the members that must be deleted after it. */
export interface OrderNode {
  unblocks: string[];
}

/** The cycles of an order, and the members stuck behind them. */
export interface OrderCycles {
  /** One cycle per tangle, as keys from its smallest key back to it: `["a", "b", "a"]`. */
  cycles: string[][];
  /** Each member that is in a cycle, with the cycle shown for its tangle. */
  members: Map<string, string[]>;
  /** Each member stuck behind a cycle, with the cycle member it waits for and that member's cycle. */
  behind: Map<string, { after: string; cycle: string[] }>;
}

/**
 * The cycles among `nodes` (keyed like the `unblocks` entries; entries naming
 * no node are ignored), found in linear time.
 *
 * @example
 * findCycles(new Map([["a", { unblocks: ["b"] }], ["b", { unblocks: ["a", "c"] }], ["c", { unblocks: [] }]]));
 * // { cycles: [["a", "b", "a"]], members: a, b -> that cycle, behind: c -> { after: "b", cycle } }
 */
export function findCycles(nodes: ReadonlyMap<string, OrderNode>): OrderCycles {
  const result: OrderCycles = { cycles: [], members: new Map(), behind: new Map() };
  const stuck = unordered(nodes);
  if (stuck.size === 0) return result;
  for (const tangle of tangles(nodes, stuck)) {
    const cycle = shortestCycle(nodes, tangle);
    result.cycles.push(cycle);
    for (const key of tangle) result.members.set(key, cycle);
  }
  // Everything after a cycle member, outside any cycle, waits for it forever.
  const queue = [...result.members.keys()].sort();
  for (let i = 0; i < queue.length; i++) {
    const key = queue[i]!;
    const origin = result.members.has(key) ? { after: key, cycle: result.members.get(key)! } : result.behind.get(key)!;
    for (const next of nodes.get(key)!.unblocks) {
      if (!nodes.has(next) || result.members.has(next) || result.behind.has(next)) continue;
      result.behind.set(next, origin);
      queue.push(next);
    }
  }
  return result;
}

/** The members a topological order never reaches: those in a cycle and those behind one (usually none). */
function unordered(nodes: ReadonlyMap<string, OrderNode>): Set<string> {
  const waiting = new Map<string, number>();
  for (const node of nodes.values()) {
    for (const next of node.unblocks) if (nodes.has(next)) waiting.set(next, (waiting.get(next) ?? 0) + 1);
  }
  const ready = [...nodes.keys()].filter((key) => !waiting.has(key));
  let reached = 0;
  while (ready.length) {
    reached++;
    for (const next of nodes.get(ready.pop()!)!.unblocks) {
      const left = waiting.get(next);
      if (left === undefined) continue;
      if (left === 1) {
        waiting.delete(next);
        ready.push(next);
      } else waiting.set(next, left - 1);
    }
  }
  return reached === nodes.size ? new Set() : new Set(waiting.keys());
}

/** Strongly connected components with more than one member among `within` (Tarjan, iterative). */
function tangles(nodes: ReadonlyMap<string, OrderNode>, within: ReadonlySet<string>): Set<string>[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: Set<string>[] = [];
  let counter = 0;
  for (const root of within) {
    if (index.has(root)) continue;
    const work: Array<{ key: string; next: number }> = [{ key: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1]!;
      const edges = nodes.get(frame.key)!.unblocks;
      if (frame.next < edges.length) {
        const to = edges[frame.next++]!;
        if (!within.has(to)) continue;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ key: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.key, Math.min(low.get(frame.key)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.key, Math.min(low.get(parent.key)!, low.get(frame.key)!));
      if (low.get(frame.key) !== index.get(frame.key)) continue;
      const component = new Set<string>();
      let key: string;
      do {
        key = stack.pop()!;
        onStack.delete(key);
        component.add(key);
      } while (key !== frame.key);
      if (component.size > 1) found.push(component);
    }
  }
  return found;
}

/** The shortest cycle through the smallest key of `tangle`, staying inside it. */
function shortestCycle(nodes: ReadonlyMap<string, OrderNode>, tangle: Set<string>): string[] {
  const start = [...tangle].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const key = queue[i]!;
    for (const next of nodes.get(key)!.unblocks) {
      if (!tangle.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at: string | undefined = key; at !== undefined && at !== start; at = previous.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (previous.has(next)) continue;
      previous.set(next, key);
      queue.push(next);
    }
  }
  return [start, start]; // unreachable: every member of a tangle lies on a cycle through any other
}
