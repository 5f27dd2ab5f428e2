import { describe, expect, it } from "vitest";
import { mermaidText, toMermaid } from "./mermaid.js";
import { hostileGraph, HOSTILE, shopGraph } from "./sample-graphs.test-fixture.js";

const NODE = /^\s*(n\d+)\["([^"]*)"\]$/;
const EDGE = /^\s*(n\d+) (-->|-\.->) (n\d+)$/;

/** The statements of a flowchart, checked line by line against the few forms the renderer writes. */
function parseFlowchart(text: string) {
  const lines = text.trimEnd().split("\n");
  expect(lines[0]).toBe("flowchart TB");
  const nodes = new Map<string, { label: string; subgraphs: string[] }>();
  const edges: [string, string, string][] = [];
  const open: string[] = [];
  const subgraphs: string[] = [];
  const classes = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    let m: RegExpExecArray | null;
    if ((m = NODE.exec(line))) nodes.set(m[1]!, { label: m[2]!, subgraphs: [...open] });
    else if ((m = EDGE.exec(line))) edges.push([m[1]!, m[2]!, m[3]!]);
    else if ((m = /^\s*subgraph (s\d+)\["([^"]*)"\]$/.exec(line))) (open.push(m[2]!), subgraphs.push(m[2]!));
    else if (/^\s*end$/.test(line)) expect(open.pop()).toBeDefined();
    else if ((m = /^\s*class ([\w,]+) (\w+)$/.exec(line))) classes.set(m[2]!, m[1]!.split(","));
    else expect(line).toMatch(/^\s*classDef \w+ [\w#:,\- .]+$/);
  }
  expect(open).toEqual([]);
  return { nodes, edges, subgraphs, classes };
}

describe("toMermaid", () => {
  it("is a flowchart with one node per resource, one arrow per dependency and one subgraph per nested or resource scope", () => {
    const graph = shopGraph();
    const { nodes, edges, subgraphs } = parseFlowchart(toMermaid(graph));
    expect([...nodes.values()].filter((n) => !n.label.includes("(no record)"))).toHaveLength(graph.nodes.length);
    expect(edges).toHaveLength(graph.edges.length);
    expect(subgraphs).toEqual(["backend", "jobs", "db (resource scope)"]);
  });

  it("puts each resource inside the subgraphs of its scopes, labelled with its id and kind", () => {
    const { nodes } = parseFlowchart(toMermaid(shopGraph()));
    const nightly = [...nodes.values()].find((n) => n.label.startsWith("nightly<br>"))!;
    expect(nightly.subgraphs).toEqual(["backend", "jobs"]);
    expect([...nodes.values()].find((n) => n.label.startsWith("config<br>"))!.label).toBe("config<br>fs::File");
  });

  it("gives records left creating, updating or deleting the class unfinished and their status in the label", () => {
    const { nodes, classes } = parseFlowchart(toMermaid(shopGraph()));
    const unfinished = classes.get("unfinished")!.map((id) => nodes.get(id)!.label);
    expect(unfinished.sort()).toEqual([
      "api<br>test::Note<br>! creating (unfinished)",
      "nightly<br>test::Note<br>! deleting (unfinished)",
      "user<br>test::Note<br>! updating (unfinished)",
    ]);
  });

  it("draws a dependency on a missing record as a dotted arrow to a node of class missing", () => {
    const { nodes, edges, classes } = parseFlowchart(toMermaid(shopGraph()));
    const [missing] = classes.get("missing")!;
    expect(nodes.get(missing!)!.label).toBe("shop/dev/forgotten<br>(no record)");
    expect(edges.filter(([, arrow]) => arrow === "-.->").map(([, , to]) => to)).toEqual([missing]);
  });

  it("escapes hostile ids, kinds and scope names as entity codes, so that no label ends early", () => {
    const text = toMermaid(hostileGraph());
    const { nodes, edges, subgraphs } = parseFlowchart(text);
    expect(nodes.size).toBe(3);
    expect(edges).toHaveLength(2);
    expect(subgraphs).toEqual(["sc#lt;o#gt;pe"]);
    for (const { label } of nodes.values()) expect(label.replace(/<br>/g, "").replace(/#\w+;/g, "")).not.toMatch(/[<>"`;\n]/);
    expect(mermaidText(HOSTILE)).toContain("a#quot;b'c#lt;d#gt;e#amp;f]g[h}{i|j#59;k#35;l#96;m\\n--#gt; end %%x\uFFFDline");
  });
});
