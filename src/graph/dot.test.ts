import { fromDot, type GraphBaseModel } from "ts-graphviz";
import { describe, expect, it } from "vitest";
import { dotString, toDot } from "./dot.js";
import { generatedGraph, hostileGraph, HOSTILE, shopGraph } from "./sample-graphs.test-fixture.js";

/** Every node of `g` and of its subgraphs, with the path of clusters it sits in. */
function nodesIn(g: GraphBaseModel, clusters: string[] = []): { id: string; clusters: string[]; label?: unknown; style?: unknown }[] {
  return [
    ...g.nodes.map((n) => ({ id: n.id, clusters, label: n.attributes.get("label"), style: n.attributes.get("style") })),
    ...g.subgraphs.flatMap((s) => nodesIn(s, [...clusters, String(s.get("label"))])),
  ];
}
const countClusters = (g: GraphBaseModel): number => g.subgraphs.filter((s) => s.id?.startsWith("cluster")).length + g.subgraphs.reduce((n, s) => n + countClusters(s), 0);
/** A DOT id as the parser gives it back: `\"` is unescaped by DOT itself, `\\` stays doubled. */
const parsedId = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

describe("toDot", () => {
  it("is valid DOT with one node per resource, one edge per dependency and one cluster per nested or resource scope", () => {
    const graph = shopGraph();
    const parsed = fromDot(toDot(graph));
    const nodes = nodesIn(parsed).filter((n) => !String(n.label).includes("(no record)"));
    expect(nodes.map((n) => n.id).sort()).toEqual(graph.nodes.map((n) => n.fqn));
    expect(parsed.edges.map((e) => e.targets.map((t) => (t as { id: string }).id))).toEqual(graph.edges.map((e) => [e.from, e.to]));
    expect(countClusters(parsed)).toBe(3);
  });

  it("nests each resource in the clusters of its scopes", () => {
    const byId = new Map(nodesIn(fromDot(toDot(shopGraph()))).map((n) => [n.id, n.clusters]));
    expect(byId.get("shop/dev/backend/jobs/nightly")).toEqual(["backend", "jobs"]);
    expect(byId.get("shop/dev/db/user")).toEqual(["db (resource scope)"]);
    expect(byId.get("shop/dev/db")).toEqual([]);
  });

  it("marks records left creating, updating or deleting bold and amber, with their status in the label", () => {
    const byId = new Map(nodesIn(fromDot(toDot(shopGraph()))).map((n) => [n.id, n]));
    for (const [fqn, status] of [["shop/dev/backend/api", "creating"], ["shop/dev/db/user", "updating"], ["shop/dev/backend/jobs/nightly", "deleting"]]) {
      expect(byId.get(fqn)!.style).toContain("bold");
      expect(byId.get(fqn)!.label).toContain(`! ${status} (unfinished)`);
    }
    expect(byId.get("shop/dev/db")!.style).toBeUndefined();
  });

  it("draws a dependency on a missing record dashed, to a dashed placeholder", () => {
    const parsed = fromDot(toDot(shopGraph()));
    const placeholder = parsed.nodes.find((n) => n.id === "shop/dev/forgotten")!;
    expect(placeholder.attributes.get("style")).toBe("dashed");
    const edge = parsed.edges.find((e) => (e.targets[1] as { id: string }).id === "shop/dev/forgotten")!;
    expect(edge.attributes.get("style")).toBe("dashed");
  });

  it("escapes hostile ids, kinds and scope names so that the DOT still parses to the same graph", () => {
    const graph = hostileGraph();
    const text = toDot(graph);
    const parsed = fromDot(text);
    expect(nodesIn(parsed).map((n) => n.id).sort()).toEqual([...graph.nodes.map((n) => n.fqn), `evil/dev/${HOSTILE}gone`].map(parsedId).sort());
    expect(parsed.edges).toHaveLength(2);
    expect(countClusters(parsed)).toBe(1);
    expect(parsed.subgraphs[0]!.get("label")).toBe("sc<o>pe");
  });

  it("never lets a trailing backslash swallow the closing quote", () => {
    expect(dotString("a\\")).toBe('"a\\\\"');
    expect(fromDot(`digraph { ${dotString("a\\")} -> b }`).edges).toHaveLength(1);
  });

  it("parses for a generated stage of 200 resources", () => {
    const graph = generatedGraph(200);
    const parsed = fromDot(toDot(graph));
    expect(nodesIn(parsed)).toHaveLength(200);
    expect(parsed.edges).toHaveLength(graph.edges.length);
    expect(countClusters(parsed)).toBe(graph.scopes.length - 1);
  });
});
