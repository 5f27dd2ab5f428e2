import { describe, expect, it } from "vitest";
import { scopesOf, shopGraph } from "./sample-graphs.test-fixture.js";
import { buildStageGraph, isUnfinished, missingTargets } from "./stage-graph.js";

describe("buildStageGraph", () => {
  it("makes one node per record, sorted by fqn, each naming the scope that holds it", () => {
    const graph = shopGraph();
    expect(graph.nodes.map((n) => [n.fqn, n.scope])).toEqual([
      ["shop/dev/backend/api", "shop/dev/backend"],
      ["shop/dev/backend/config", "shop/dev/backend"],
      ["shop/dev/backend/jobs/nightly", "shop/dev/backend/jobs"],
      ["shop/dev/db", "shop/dev"],
      ["shop/dev/db/schema", "shop/dev/db"],
      ["shop/dev/db/user", "shop/dev/db"],
      ["shop/dev/out", "shop/dev"],
    ]);
  });

  it("makes one edge per dependency, from dependent to dependency, a repeated dep once", () => {
    expect(shopGraph().edges).toEqual([
      { from: "shop/dev/backend/api", to: "shop/dev/db" },
      { from: "shop/dev/backend/api", to: "shop/dev/forgotten", missing: true },
      { from: "shop/dev/backend/config", to: "shop/dev/out" },
      { from: "shop/dev/backend/jobs/nightly", to: "shop/dev/backend/api" },
      { from: "shop/dev/db/schema", to: "shop/dev/db" },
    ]);
  });

  it("tells a resource scope (named like a record of its parent) from a nested scope, the stage first", () => {
    expect(shopGraph().scopes).toEqual([
      { path: "shop/dev", name: "dev", kind: "stage" },
      { path: "shop/dev/backend", name: "backend", kind: "nested", parent: "shop/dev" },
      { path: "shop/dev/backend/jobs", name: "jobs", kind: "nested", parent: "shop/dev/backend" },
      { path: "shop/dev/db", name: "db", kind: "resource", parent: "shop/dev", owner: "shop/dev/db" },
    ]);
  });

  it("adds a scope that holds no record itself but has one below it, so every scope has its parent", () => {
    const graph = buildStageGraph("a", "s", scopesOf("a", "s", { "outer/inner": [{ id: "x" }] }));
    expect(graph.scopes.map((s) => [s.path, s.parent])).toEqual([
      ["a/s", undefined],
      ["a/s/outer", "a/s"],
      ["a/s/outer/inner", "a/s/outer"],
    ]);
  });

  it("lists the fqns that dependencies name but no record has", () => {
    expect(missingTargets(shopGraph())).toEqual(["shop/dev/forgotten"]);
  });

  it("calls creating, updating and deleting unfinished, and nothing else", () => {
    expect(["creating", "updating", "deleting"].every((s) => isUnfinished(s as never))).toBe(true);
    expect(["created", "updated", "deleted"].some((s) => isUnfinished(s as never))).toBe(false);
  });

  it("reads a record written without deps (seed 002) as one without dependencies", () => {
    const graph = buildStageGraph("a", "s", [{ chain: ["a", "s"], records: [{ id: "x", fqn: "a/s/x", kind: "k", status: "created", deps: undefined as never }] }]);
    expect(graph.edges).toEqual([]);
  });
});
