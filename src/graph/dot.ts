/**
 * The stage graph as Graphviz DOT: a `digraph` named after the stage, one
 * `subgraph cluster_N` per nested or resource scope (nested as the scopes
 * are), nodes named by fqn, edges from dependent to dependency. Render it
 * with `dot -Tsvg` or `dot -Tpng`.
 *
 * @module
 */
import { isUnfinished, missingTargets, nodeLines, scopeContents, scopeTitle, type GraphNode, type StageGraph } from "./stage-graph.js";

/**
 * A DOT quoted string holding `text` exactly: `"` and `\` escaped (a
 * trailing `\` would otherwise swallow the closing quote), line breaks as
 * `\n`, other control characters as U+FFFD (DOT has no escape for them).
 *
 * @example
 * dotString('a"b'); // "\"a\\\"b\""
 */
export function dotString(text: string): string {
  const escaped = text
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, "\\n")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, "\uFFFD");
  return `"${escaped}"`;
}

/** A label of several lines, each escaped, joined with DOT's centred line break. */
function dotLabel(lines: string[]): string {
  return `"${lines.map((l) => dotString(l).slice(1, -1)).join("\\n")}"`;
}

/**
 * Renders `graph` as DOT. Records left `creating`/`updating`/`deleting` are
 * bold, amber and carry `! <status> (unfinished)`; a dependency naming no
 * record goes, dashed, to a dashed `(no record)` node.
 *
 * @example
 * writeFileSync("stage.dot", toDot(graph));
 */
export function toDot(graph: StageGraph): string {
  const out: string[] = [
    `digraph ${dotString(`${graph.app}/${graph.stage}`)} {`,
    `  graph [rankdir=TB, fontname="Helvetica", fontsize=11, label=${dotString(`${graph.app}/${graph.stage}`)}, labelloc=t];`,
    `  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#4b5563", fontname="Helvetica", fontsize=10];`,
    `  edge [color="#6b7280"];`,
  ];
  let clusters = 0;
  const emitScope = (path: string, indent: string): void => {
    const { scopes, nodes } = scopeContents(graph, path);
    for (const node of nodes) out.push(`${indent}${dotNode(node)}`);
    for (const scope of scopes) {
      out.push(`${indent}subgraph cluster_${clusters++} {`);
      out.push(`${indent}  label=${dotString(scopeTitle(scope))};`);
      out.push(`${indent}  style="rounded${scope.kind === "resource" ? ",dashed" : ""}"; color="#9ca3af";`);
      emitScope(scope.path, `${indent}  `);
      out.push(`${indent}}`);
    }
  };
  emitScope(`${graph.app}/${graph.stage}`, "  ");
  for (const fqn of missingTargets(graph)) {
    out.push(`  ${dotString(fqn)} [label=${dotLabel([fqn, "(no record)"])}, style="dashed", color="#dc2626", fontcolor="#dc2626"];`);
  }
  for (const edge of graph.edges) {
    out.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)}${edge.missing ? ` [style=dashed, color="#dc2626"]` : ""};`);
  }
  out.push("}");
  return out.join("\n") + "\n";
}

function dotNode(node: GraphNode): string {
  const attrs = [`label=${dotLabel(nodeLines(node))}`, `tooltip=${dotString(node.fqn)}`];
  if (isUnfinished(node.status)) attrs.push(`style="rounded,filled,bold"`, `color="#d97706"`, `fillcolor="#fef3c7"`);
  else if (node.status === "deleted") attrs.push(`style="rounded,dashed"`);
  return `${dotString(node.fqn)} [${attrs.join(", ")}];`;
}
