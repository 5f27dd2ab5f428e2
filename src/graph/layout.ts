/**
 * Positions for drawing a stage graph, computed by dagre (a layered graph
 * layout, the one Graphviz's `dot` popularised): dependents above their
 * dependencies, each scope a box around its resources and inner scopes.
 * The result is plain data (boxes, polylines), so the SVG renderer and a web
 * UI can both draw from it.
 *
 * @module
 */
import dagre from "@dagrejs/dagre";
import { isUnfinished, missingTargets, nodeLines, scopeTitle, type GraphScope, type StageGraph } from "./stage-graph.js";

/** A point, in pixels from the drawing's top-left corner. */
export interface Point {
  x: number;
  y: number;
}

/** A box, by its top-left corner and size, in pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A resource (or a placeholder for a dependency naming no record), placed. */
export interface PlacedNode extends Box {
  fqn: string;
  /** The text lines to draw, top to bottom: id, kind, and a status line if any. */
  lines: string[];
  /** Left `creating`/`updating`/`deleting` by a run that stopped. */
  unfinished: boolean;
  /** A placeholder: a dependency names this fqn but no record has it. */
  missing: boolean;
}

/** A dependency, as a polyline from the dependent's border to the dependency's. */
export interface PlacedEdge {
  from: string;
  to: string;
  missing: boolean;
  points: Point[];
}

/** A nested or resource scope, as a box around everything in it. */
export interface PlacedCluster extends Box {
  /** The scope's path. */
  path: string;
  kind: GraphScope["kind"];
  /** The title to draw at the box's top-left corner. */
  title: string;
  /** 1 for a scope directly in the stage, 2 inside that, ... */
  depth: number;
}

/**
 * A stage graph laid out: every node, edge and cluster with its position.
 * Nodes never overlap, and each lies inside the box of every scope that
 * holds it; the top {@link LAYOUT_METRICS.titleHeight} pixels of a cluster
 * are free for its title.
 */
export interface GraphLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  /** Outer scopes before inner ones, so drawing them in order nests them. */
  clusters: PlacedCluster[];
}

/** The sizes the layout assumes; a renderer must draw text no larger. */
export const LAYOUT_METRICS = {
  /** Font size of node and cluster text, in pixels (a monospace font). */
  fontSize: 12,
  /** Width of one character at that size; wide (CJK) characters count twice. */
  charWidth: 7.4,
  lineHeight: 16,
  nodePaddingX: 10,
  nodePaddingY: 8,
  /** Room kept free at the top of every cluster for its title. */
  titleHeight: 24,
  /** Room between a cluster's sides or bottom and what it holds. */
  clusterPadding: 12,
  margin: 16,
} as const;

/** A thing laid out at one level: a node, or a scope drawn as one box. */
type Item = { key: string; width: number; height: number };
/** What one scope's level holds, laid out in its own frame (0,0 at its content's top-left). */
interface Level {
  width: number;
  height: number;
  place: Map<string, Box>;
  routes: Map<string, Point[]>;
}

/**
 * Lays `graph` out top to bottom with dagre, one scope at a time from the
 * innermost out: a scope's resources and inner scopes (each already laid out,
 * as one box) are laid out together, so a scope's box holds exactly what is
 * in it, by construction (dagre's own compound layout can place a node
 * outside its cluster). A dependency between scopes follows the route dagre
 * gave the two boxes that hold its ends, at the innermost scope that holds both.
 *
 * @example
 * const layout = layoutGraph(graph);
 * layout.nodes[0]; // { fqn: "shop/dev/db", x: 16, y: 16, width: 120, height: 48, lines: ["db", "test::Note"], ... }
 */
export function layoutGraph(graph: StageGraph): GraphLayout {
  const m = LAYOUT_METRICS;
  const stagePath = `${graph.app}/${graph.stage}`;
  const scopeKey = (path: string) => `scope:${path}`;
  const nodeKey = (fqn: string) => `node:${fqn}`;

  const nodes = new Map<string, Omit<PlacedNode, keyof Box> & { scope: string }>();
  for (const node of graph.nodes) nodes.set(node.fqn, { fqn: node.fqn, lines: nodeLines(node), unfinished: isUnfinished(node.status), missing: false, scope: node.scope });
  for (const fqn of missingTargets(graph)) nodes.set(fqn, { fqn, lines: [fqn, "(no record)"], unfinished: false, missing: true, scope: stagePath });

  const parentOf = new Map(graph.scopes.map((s) => [s.path, s.parent]));
  /** The scopes holding `fqn`, innermost first, ending with the stage. */
  const scopesAround = (fqn: string): string[] => {
    const chain: string[] = [];
    for (let p: string | undefined = nodes.get(fqn)!.scope; p !== undefined; p = parentOf.get(p)) chain.push(p);
    return chain;
  };
  /** Where an edge is laid out: the innermost scope holding both ends, and the item of that scope holding each end. */
  const edgeLevel = (from: string, to: string): { scope: string; from: string; to: string } => {
    const a = scopesAround(from).reverse();
    const b = scopesAround(to).reverse();
    let i = 0;
    while (i + 1 < a.length && i + 1 < b.length && a[i + 1] === b[i + 1]) i++;
    const itemOf = (chain: string[], fqn: string) => (chain[i + 1] === undefined ? nodeKey(fqn) : scopeKey(chain[i + 1]!));
    return { scope: a[i]!, from: itemOf(a, from), to: itemOf(b, to) };
  };
  const edgesAt = new Map<string, [string, string][]>();
  for (const edge of graph.edges) {
    const level = edgeLevel(edge.from, edge.to);
    edgesAt.set(level.scope, [...(edgesAt.get(level.scope) ?? []), [level.from, level.to]]);
  }

  const levels = new Map<string, Level>();
  const layOut = (path: string): Item => {
    const items: Item[] = [];
    for (const node of nodes.values()) if (node.scope === path) items.push({ key: nodeKey(node.fqn), ...textBox(node.lines) });
    for (const scope of graph.scopes) if (scope.parent === path) items.push(layOut(scope.path));
    const margin = path === stagePath ? m.margin : 0;
    const g = new dagre.graphlib.Graph({ multigraph: false });
    g.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 40, marginx: margin, marginy: margin });
    g.setDefaultEdgeLabel(() => ({}));
    for (const item of items) g.setNode(item.key, { width: item.width, height: item.height });
    for (const [from, to] of edgesAt.get(path) ?? []) g.setEdge(from, to);
    dagre.layout(g);
    const place = new Map<string, Box>();
    for (const item of items) {
      const { x, y } = g.node(item.key) as { x: number; y: number };
      place.set(item.key, { x: x - item.width / 2, y: y - item.height / 2, width: item.width, height: item.height });
    }
    const routes = new Map<string, Point[]>();
    for (const e of g.edges()) routes.set(JSON.stringify([e.v, e.w]), ((g.edge(e) as { points?: Point[] }).points ?? []).map(({ x, y }) => ({ x, y })));
    const size = g.graph() as { width?: number; height?: number };
    const level = { width: size.width ?? 0, height: size.height ?? 0, place, routes };
    levels.set(path, level);
    return { key: scopeKey(path), width: level.width + 2 * m.clusterPadding, height: level.height + m.titleHeight + m.clusterPadding };
  };
  layOut(stagePath);

  // Top-down: each level's frame starts at its scope box's content corner.
  const origin = new Map<string, Point>([[stagePath, { x: 0, y: 0 }]]);
  const placedNodes: PlacedNode[] = [];
  const clusters: PlacedCluster[] = [];
  const depth = new Map<string, number>([[stagePath, 0]]);
  for (const scope of graph.scopes) {
    const level = levels.get(scope.path)!;
    const at = origin.get(scope.path)!;
    for (const [key, box] of level.place) {
      const abs = { ...box, x: box.x + at.x, y: box.y + at.y };
      if (key.startsWith("node:")) {
        const { scope: _scope, ...node } = nodes.get(key.slice("node:".length))!;
        placedNodes.push({ ...node, ...abs });
        continue;
      }
      const inner = graph.scopes.find((s) => s.path === key.slice("scope:".length))!;
      depth.set(inner.path, depth.get(scope.path)! + 1);
      origin.set(inner.path, { x: abs.x + m.clusterPadding, y: abs.y + m.titleHeight });
      clusters.push({ path: inner.path, kind: inner.kind, title: scopeTitle(inner), depth: depth.get(inner.path)!, ...abs });
    }
  }
  clusters.sort((a, b) => a.depth - b.depth);

  const boxOf = new Map(placedNodes.map((n) => [n.fqn, n]));
  const edges = graph.edges.map((edge) => {
    const level = edgeLevel(edge.from, edge.to);
    const at = origin.get(level.scope)!;
    const route = (levels.get(level.scope)!.routes.get(JSON.stringify([level.from, level.to])) ?? []).map((p) => ({ x: p.x + at.x, y: p.y + at.y }));
    const [from, to] = [boxOf.get(edge.from)!, boxOf.get(edge.to)!];
    // An end inside a scope box leaves it, or enters it, from the middle of its own border.
    if (level.from !== nodeKey(edge.from)) route.unshift(borderTowards(from, route[0]));
    if (level.to !== nodeKey(edge.to)) route.push(borderTowards(to, route.at(-1)));
    return { from: edge.from, to: edge.to, missing: edge.missing === true, points: route };
  });
  const stage = levels.get(stagePath)!;
  return { width: Math.ceil(stage.width), height: Math.ceil(stage.height), nodes: placedNodes, edges, clusters };
}

/** The middle of the side of `box` that faces `point` (its bottom when `point` is below it). */
function borderTowards(box: Box, point: Point | undefined): Point {
  const cx = box.x + box.width / 2;
  if (point === undefined) return { x: cx, y: box.y + box.height };
  if (point.y >= box.y + box.height) return { x: cx, y: box.y + box.height };
  if (point.y <= box.y) return { x: cx, y: box.y };
  return { x: point.x < box.x ? box.x : box.x + box.width, y: box.y + box.height / 2 };
}

/**
 * How wide `text` is drawn in the layout's monospace font, in pixels: wide
 * (East Asian) characters count as two.
 *
 * @example
 * textWidth("db"); // 14.8
 */
export function textWidth(text: string): number {
  let columns = 0;
  for (const ch of text) columns += ch.codePointAt(0)! >= 0x1100 && /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u.test(ch) ? 2 : 1;
  return columns * LAYOUT_METRICS.charWidth;
}

function textBox(lines: string[]): { width: number; height: number } {
  const m = LAYOUT_METRICS;
  return {
    width: Math.ceil(Math.max(...lines.map(textWidth)) + 2 * m.nodePaddingX),
    height: lines.length * m.lineHeight + 2 * m.nodePaddingY,
  };
}
