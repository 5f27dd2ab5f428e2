/**
 * A stage's resources and dependencies as a graph, and its renderings:
 * `json`, Graphviz `dot`, Mermaid, and SVG laid out by dagre.
 *
 * @module
 */
import { toDot } from "./dot.js";
import { toJson } from "./json.js";
import { toMermaid } from "./mermaid.js";
import type { StageGraph } from "./stage-graph.js";
import { toSvg } from "./svg.js";
import type { GraphFormat } from "./graph-format.js";

export { buildStageGraph, isUnfinished, missingTargets, type GraphEdge, type GraphNode, type GraphScope, type ScopeKind, type ScopeRecordsInput, type StageGraph } from "./stage-graph.js";
export { layoutGraph, LAYOUT_METRICS, type Box, type GraphLayout, type PlacedCluster, type PlacedEdge, type PlacedNode, type Point } from "./layout.js";
export { toDot, toJson, toMermaid, toSvg };
export { formatOfFile, GRAPH_FORMATS, type GraphFormat } from "./graph-format.js";
export type { StageGraphJson } from "./json.js";

const RENDERERS: Record<GraphFormat, (graph: StageGraph) => string> = { svg: toSvg, dot: toDot, mermaid: toMermaid, json: toJson };

/**
 * `graph` in `format`, as the text of a file.
 *
 * @example
 * renderGraph(graph, "mermaid"); // "flowchart TB\n  n0[...]..."
 */
export function renderGraph(graph: StageGraph, format: GraphFormat): string {
  return RENDERERS[format](graph);
}
