import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { layoutGraph } from "./layout.js";
import { generatedGraph, hostileGraph, HOSTILE, shopGraph } from "./sample-graphs.test-fixture.js";
import { toSvg, xmlText } from "./svg.js";

type Element = Record<string, unknown>;
/** Every element named `name` anywhere below `node`, in document order. */
function all(node: unknown, name: string): Element[] {
  if (Array.isArray(node)) return node.flatMap((n) => all(n, name));
  if (node === null || typeof node !== "object") return [];
  return Object.entries(node as Element).flatMap(([key, value]) => (key === name ? [value as Element].flat() : []).concat(key.startsWith("@_") ? [] : all(value, name)));
}
/** The SVG, checked well-formed, parsed with entities decoded. */
function parseSvg(svg: string): Element {
  expect(XMLValidator.validate(svg)).toBe(true);
  return new XMLParser({ ignoreAttributes: false, isArray: (name) => ["g", "text", "polyline", "title", "rect"].includes(name), htmlEntities: true }).parse(svg) as Element;
}
const groups = (doc: Element, klass: string) => all(doc, "g").filter((g) => g["@_class"] === klass);

describe("toSvg", () => {
  it("is well-formed XML with one node group per resource, one polyline per dependency and one cluster per nested or resource scope", () => {
    const graph = shopGraph();
    const doc = parseSvg(toSvg(graph));
    const nodes = all(doc, "g").filter((g) => String(g["@_class"]).startsWith("node"));
    expect(nodes.filter((g) => g["@_class"] !== "node missing").map((g) => g["@_data-fqn"]).sort()).toEqual(graph.nodes.map((n) => n.fqn));
    expect(all(doc, "polyline").map((p) => [p["@_data-from"], p["@_data-to"]])).toEqual(graph.edges.map((e) => [e.from, e.to]));
    expect(groups(doc, "cluster").map((g) => g["@_data-scope"])).toEqual(["shop/dev/backend", "shop/dev/db", "shop/dev/backend/jobs"]);
  });

  it("draws the boxes where the layout put them", () => {
    const graph = shopGraph();
    const layout = layoutGraph(graph);
    const doc = parseSvg(toSvg(graph, layout));
    const db = all(doc, "g").find((g) => g["@_data-fqn"] === "shop/dev/db")!;
    const rect = (db.rect as Element[])[0]!;
    const placed = layout.nodes.find((n) => n.fqn === "shop/dev/db")!;
    expect([Number(rect["@_x"]), Number(rect["@_width"])]).toEqual([Math.round(placed.x * 10) / 10, Math.round(placed.width * 10) / 10]);
  });

  it("marks records left creating, updating or deleting with class unfinished, a thick amber border and their status", () => {
    const doc = parseSvg(toSvg(shopGraph()));
    const unfinished = groups(doc, "node unfinished");
    expect(unfinished.map((g) => g["@_data-fqn"]).sort()).toEqual(["shop/dev/backend/api", "shop/dev/backend/jobs/nightly", "shop/dev/db/user"]);
    for (const g of unfinished) {
      expect((g.rect as Element[])[0]!["@_stroke-width"]).toBe("3");
      expect((g.text as Element[]).map((t) => t["#text"])).toContainEqual(expect.stringMatching(/^! (creating|updating|deleting) \(unfinished\)$/));
    }
  });

  it("draws a dependency on a missing record dashed, to a dashed (no record) box", () => {
    const doc = parseSvg(toSvg(shopGraph()));
    expect(groups(doc, "node missing").map((g) => g["@_data-fqn"])).toEqual(["shop/dev/forgotten"]);
    const edge = all(doc, "polyline").find((p) => p["@_data-to"] === "shop/dev/forgotten")!;
    expect(edge["@_stroke-dasharray"]).toBe("5 4");
  });

  it("escapes hostile ids, kinds and scope names: still well-formed, and each text reads back as written", () => {
    const graph = hostileGraph();
    const svg = toSvg(graph);
    const doc = parseSvg(svg);
    const fqns = all(doc, "g").map((g) => g["@_data-fqn"]).filter(Boolean);
    expect(fqns).toContain(`evil/dev/${HOSTILE}1`);
    expect(fqns).toContain(`evil/dev/sc<o>pe/${HOSTILE}2`);
    expect(groups(doc, "cluster").map((g) => g["@_data-scope"])).toEqual(["evil/dev/sc<o>pe"]);
    expect(svg).not.toContain("<o>");
  });

  it("replaces the characters XML forbids, and escapes the five that it reserves", () => {
    expect(xmlText(`<a & "b" 'c'>`)).toBe("&lt;a &amp; &quot;b&quot; &#39;c&#39;&gt;");
    expect(xmlText("a\nb")).toBe("a&#10;b");
    expect(xmlText("a\u0000b\u001bc\ud800d")).toBe("a\uFFFDb\uFFFDc\uFFFDd");
    expect(xmlText("😀")).toBe("😀");
  });

  it("is well-formed for a generated stage of 100 resources", () => {
    const graph = generatedGraph(100, 11);
    const doc = parseSvg(toSvg(graph));
    expect(all(doc, "polyline")).toHaveLength(graph.edges.length);
  });
});
