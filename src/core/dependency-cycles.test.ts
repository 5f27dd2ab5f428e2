import { describe, expect, it } from "vitest";
import { findCycles } from "./dependency-cycles.js";

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([key, unblocks]) => [key, { unblocks }]));

describe("finding the cycles of a delete order", () => {
  it("finds none in an order without one, ignoring edges to keys that are not members", () => {
    const found = findCycles(graph({ a: ["b", "elsewhere"], b: ["c"], c: [], d: ["c"] }));
    expect(found).toEqual({ cycles: [], members: new Map(), behind: new Map() });
  });

  it("names each tangle by its shortest cycle through its smallest key, and everything stuck behind it", () => {
    const found = findCycles(
      graph({
        // One tangle: c -> a -> b -> c, and b -> d -> c (longer).
        a: ["b"], b: ["d", "c"], c: ["a"], d: ["c", "needed"],
        needed: ["deeper"], deeper: [],
        // A second tangle, and something that goes before it (not stuck).
        x: ["y"], y: ["x"], first: ["x"],
      }),
    );
    expect(found.cycles).toEqual([["a", "b", "c", "a"], ["x", "y", "x"]].sort());
    expect(Object.fromEntries(found.members)).toEqual({
      a: ["a", "b", "c", "a"], b: ["a", "b", "c", "a"], c: ["a", "b", "c", "a"], d: ["a", "b", "c", "a"], x: ["x", "y", "x"], y: ["x", "y", "x"],
    });
    expect(Object.fromEntries(found.behind)).toEqual({
      needed: { after: "d", cycle: ["a", "b", "c", "a"] },
      deeper: { after: "d", cycle: ["a", "b", "c", "a"] },
    });
  });

  it("handles a long chain ending in a cycle without deep recursion", () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 30_000; i++) edges[`n${i}`] = [`n${i + 1}`];
    edges.n30000 = ["n29999"];
    const found = findCycles(graph(edges));
    expect(found.cycles).toEqual([["n29999", "n30000", "n29999"]]);
    expect(found.behind.size).toBe(0);
  });
});
