import { describe, expect, it } from "vitest";
import { LAYOUT_METRICS, layoutGraph, textWidth, type Box, type GraphLayout } from "./layout.js";
import { generatedGraph, hostileGraph, shopGraph } from "./sample-graphs.test-fixture.js";
import type { StageGraph } from "./stage-graph.js";

const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

const onBorder = (p: { x: number; y: number }, b: Box) =>
  p.x >= b.x - 1 && p.x <= b.x + b.width + 1 && p.y >= b.y - 1 && p.y <= b.y + b.height + 1 &&
  (Math.abs(p.x - b.x) < 1 || Math.abs(p.x - b.x - b.width) < 1 || Math.abs(p.y - b.y) < 1 || Math.abs(p.y - b.y - b.height) < 1);

/** The invariants a drawing relies on, checked for one graph. */
function checkLayout(graph: StageGraph, layout: GraphLayout): void {
  const nodes = layout.nodes;
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) expect(overlap(nodes[i]!, nodes[j]!), `${nodes[i]!.fqn} overlaps ${nodes[j]!.fqn}`).toBe(false);
  }
  const clusters = new Map(layout.clusters.map((c) => [c.path, c]));
  const scopes = new Map(graph.scopes.map((s) => [s.path, s]));
  for (const node of graph.nodes) {
    const placed = nodes.find((n) => n.fqn === node.fqn)!;
    // Inside the box of its scope and of every scope around that one.
    for (let scope = scopes.get(node.scope); scope?.parent !== undefined; scope = scopes.get(scope.parent)) {
      const box = clusters.get(scope.path)!;
      expect(inside(placed, box), `${node.fqn} outside ${scope.path}`).toBe(true);
      expect(placed.y - box.y, `${node.fqn} under the title of ${scope.path}`).toBeGreaterThanOrEqual(LAYOUT_METRICS.titleHeight);
    }
    // Outside every box that is not one of its scopes.
    for (const cluster of layout.clusters) {
      const ours = node.scope === cluster.path || node.scope.startsWith(`${cluster.path}/`);
      if (!ours) expect(overlap(placed, cluster), `${node.fqn} inside ${cluster.path}`).toBe(false);
    }
  }
  for (const cluster of layout.clusters) {
    const parent = scopes.get(cluster.path)!.parent!;
    if (clusters.has(parent)) expect(inside(cluster, clusters.get(parent)!), `${cluster.path} outside ${parent}`).toBe(true);
  }
  for (const item of [...nodes, ...layout.clusters]) expect(inside(item, { x: 0, y: 0, width: layout.width, height: layout.height })).toBe(true);
}

describe("layoutGraph", () => {
  it("places every resource and placeholder once, no two overlapping, each inside the boxes of its scopes", () => {
    const graph = shopGraph();
    const layout = layoutGraph(graph);
    expect(layout.nodes.map((n) => n.fqn).sort()).toEqual([...graph.nodes.map((n) => n.fqn), "shop/dev/forgotten"].sort());
    expect(layout.clusters.map((c) => [c.path, c.depth])).toEqual([
      ["shop/dev/backend", 1],
      ["shop/dev/db", 1],
      ["shop/dev/backend/jobs", 2],
    ]);
    checkLayout(graph, layout);
  });

  it("draws dependents above their dependencies, each edge a polyline from one to the other", () => {
    const layout = layoutGraph(shopGraph());
    const node = (fqn: string) => layout.nodes.find((n) => n.fqn === fqn)!;
    expect(layout.edges).toHaveLength(5);
    for (const edge of layout.edges) {
      const [from, to] = [node(edge.from), node(edge.to)];
      expect(from.y + from.height).toBeLessThanOrEqual(to.y);
      expect(edge.points.length).toBeGreaterThanOrEqual(2);
      expect(onBorder(edge.points[0]!, from), `${edge.from} -> ${edge.to} starts off its border`).toBe(true);
      expect(onBorder(edge.points.at(-1)!, to), `${edge.from} -> ${edge.to} ends off its border`).toBe(true);
    }
    expect(layout.edges.find((e) => e.to === "shop/dev/forgotten")!.missing).toBe(true);
  });

  it("sizes a box to its longest line, wide characters counting twice", () => {
    const layout = layoutGraph(shopGraph());
    const api = layout.nodes.find((n) => n.fqn === "shop/dev/backend/api")!;
    expect(api.lines).toEqual(["api", "test::Note", "! creating (unfinished)"]);
    expect(api.unfinished).toBe(true);
    expect(api.width).toBeGreaterThanOrEqual(textWidth("! creating (unfinished)"));
    expect(textWidth("日本")).toBe(4 * LAYOUT_METRICS.charWidth);
  });

  it("keeps its invariants for hostile names and for generated stages of 60 and 150 resources", () => {
    for (const graph of [hostileGraph(), generatedGraph(60, 7), generatedGraph(150, 3)]) checkLayout(graph, layoutGraph(graph));
  });
});
