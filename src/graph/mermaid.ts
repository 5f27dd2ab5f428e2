/**
 * The stage graph as a Mermaid `flowchart`, for a README or a pull request
 * comment (GitHub renders ```` ```mermaid ```` blocks): one `subgraph` per
 * nested or resource scope, nested as the scopes are. Node ids are `n0`,
 * `n1`, ... (Mermaid ids cannot hold every character an fqn may), labels
 * hold the text, escaped.
 *
 * @module
 */
import { isUnfinished, missingTargets, nodeLines, scopeContents, scopeTitle, type StageGraph } from "./stage-graph.js";

const ENTITIES: Record<string, string> = {
  "#": "#35;",
  '"': "#quot;",
  "&": "#amp;",
  "<": "#lt;",
  ">": "#gt;",
  "`": "#96;",
  ";": "#59;",
};

/**
 * `text` as the inside of a Mermaid quoted label: characters that would end
 * the label, start markup or a statement become entity codes (`#quot;`,
 * `#lt;`, ...), control characters U+FFFD.
 *
 * @example
 * mermaidText('a"<b>'); // "a#quot;#lt;b#gt;"
 */
export function mermaidText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[#"&<>`;]/g, (c) => ENTITIES[c]!).replace(/[\u0000-\u001f\u007f]/g, "\uFFFD");
}

/**
 * Renders `graph` as Mermaid. Records left `creating`/`updating`/`deleting`
 * get class `unfinished` (amber, thick border) and the line
 * `! <status> (unfinished)`; a dependency naming no record is a dotted
 * arrow to a dashed `(no record)` node of class `missing`.
 *
 * @example
 * writeFileSync("stage.mmd", toMermaid(graph));
 */
export function toMermaid(graph: StageGraph): string {
  const ids = new Map<string, string>();
  const idOf = (fqn: string): string => {
    let id = ids.get(fqn);
    if (id === undefined) ids.set(fqn, (id = `n${ids.size}`));
    return id;
  };
  const out = ["flowchart TB"];
  const unfinished: string[] = [];
  let subgraphs = 0;
  const emitScope = (path: string, indent: string): void => {
    const { scopes, nodes } = scopeContents(graph, path);
    for (const node of nodes) {
      out.push(`${indent}${idOf(node.fqn)}["${nodeLines(node).map(mermaidText).join("<br>")}"]`);
      if (isUnfinished(node.status)) unfinished.push(idOf(node.fqn));
    }
    for (const scope of scopes) {
      out.push(`${indent}subgraph s${subgraphs++}["${mermaidText(scopeTitle(scope))}"]`);
      emitScope(scope.path, `${indent}  `);
      out.push(`${indent}end`);
    }
  };
  emitScope(`${graph.app}/${graph.stage}`, "  ");
  const missing = missingTargets(graph).map((fqn) => {
    out.push(`  ${idOf(fqn)}["${mermaidText(fqn)}<br>(no record)"]`);
    return idOf(fqn);
  });
  for (const edge of graph.edges) out.push(`  ${idOf(edge.from)} ${edge.missing ? "-.->" : "-->"} ${idOf(edge.to)}`);
  out.push("  classDef unfinished fill:#fef3c7,stroke:#d97706,stroke-width:3px");
  out.push("  classDef missing fill:#ffffff,stroke:#dc2626,stroke-dasharray:4 3,color:#dc2626");
  if (unfinished.length > 0) out.push(`  class ${unfinished.join(",")} unfinished`);
  if (missing.length > 0) out.push(`  class ${missing.join(",")} missing`);
  return out.join("\n") + "\n";
}
