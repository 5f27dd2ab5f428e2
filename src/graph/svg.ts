/**
 * The stage graph as a standalone SVG image, drawn from {@link layoutGraph}:
 * a heading naming the stage, a rounded box per scope (dashed for a resource
 * scope), a box per resource, and an arrow per dependency. Every piece of
 * text is escaped, and each node carries its fqn in a `<title>` (a tooltip
 * in a browser) and a `data-fqn` attribute.
 *
 * @module
 */
import { LAYOUT_METRICS, layoutGraph, textWidth, type GraphLayout, type PlacedCluster, type PlacedNode } from "./layout.js";
import type { StageGraph } from "./stage-graph.js";

const HEADING = 28;
const COLORS = {
  text: "#111827",
  muted: "#6b7280",
  node: "#4b5563",
  cluster: "#9ca3af",
  unfinished: "#d97706",
  unfinishedFill: "#fef3c7",
  missing: "#dc2626",
} as const;

/**
 * `text` safe inside XML text and inside a double-quoted attribute:
 * `& < > " '` as entities, tab and line breaks as character references (an
 * attribute keeps them only so), and the characters XML 1.0 forbids (other
 * control characters, lone surrogates, U+FFFE/U+FFFF) as U+FFFD.
 *
 * @example
 * xmlText('<a & "b">'); // "&lt;a &amp; &quot;b&quot;&gt;"
 */
export function xmlText(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\uFFFD")
      .replace(/[&<>"'\t\n\r]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;" })[c]!)
  );
}

/**
 * Renders `graph` as SVG. Records left `creating`/`updating`/`deleting` are
 * amber with a thick border and the line `! <status> (unfinished)`; a
 * dependency naming no record is a dashed red arrow to a dashed `(no record)` box.
 *
 * @param layout the layout to draw; computed from `graph` when not given.
 * @example
 * writeFileSync("stage.svg", toSvg(graph));
 */
export function toSvg(graph: StageGraph, layout: GraphLayout = layoutGraph(graph)): string {
  const m = LAYOUT_METRICS;
  const title = `${graph.app}/${graph.stage}`;
  const width = Math.max(layout.width, Math.ceil(textWidth(title) + 2 * m.margin));
  const height = layout.height + HEADING;
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="${m.fontSize}">`,
    `<title>${xmlText(`alchemy graph ${title}`)}</title>`,
    `<defs>`,
    arrowHead("arrow", COLORS.muted),
    arrowHead("arrow-missing", COLORS.missing),
    `</defs>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${m.margin}" y="${m.margin + 4}" font-weight="bold" fill="${COLORS.text}">${xmlText(title)}</text>`,
    `<g transform="translate(0 ${HEADING})">`,
  ];
  for (const cluster of layout.clusters) out.push(drawCluster(cluster));
  for (const edge of layout.edges) {
    const points = edge.points.map((p) => `${round(p.x)},${round(p.y)}`).join(" ");
    const style = edge.missing ? `stroke="${COLORS.missing}" stroke-dasharray="5 4" marker-end="url(#arrow-missing)"` : `stroke="${COLORS.muted}" marker-end="url(#arrow)"`;
    out.push(`<polyline class="edge" data-from="${xmlText(edge.from)}" data-to="${xmlText(edge.to)}" points="${points}" fill="none" stroke-width="1.2" ${style}/>`);
  }
  for (const node of layout.nodes) out.push(drawNode(node));
  out.push(`</g>`, `</svg>`);
  return out.join("\n") + "\n";
}

function arrowHead(id: string, color: string): string {
  return `<marker id="${id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`;
}

function drawCluster(cluster: PlacedCluster): string {
  const m = LAYOUT_METRICS;
  const dash = cluster.kind === "resource" ? ` stroke-dasharray="6 3"` : "";
  const room = Math.max(1, Math.floor((cluster.width - 2 * m.nodePaddingX) / m.charWidth));
  return [
    `<g class="cluster" data-scope="${xmlText(cluster.path)}">`,
    `<title>${xmlText(cluster.path)}</title>`,
    `<rect x="${round(cluster.x)}" y="${round(cluster.y)}" width="${round(cluster.width)}" height="${round(cluster.height)}" rx="8" fill="#f9fafb" fill-opacity="0.6" stroke="${COLORS.cluster}"${dash}/>`,
    `<text x="${round(cluster.x + m.nodePaddingX)}" y="${round(cluster.y + m.titleHeight - 7)}" fill="${COLORS.muted}">${xmlText(truncate(cluster.title, room))}</text>`,
    `</g>`,
  ].join("");
}

function drawNode(node: PlacedNode): string {
  const m = LAYOUT_METRICS;
  const [stroke, fill, strokeWidth, dash] = node.missing
    ? [COLORS.missing, "#ffffff", 1.2, ` stroke-dasharray="5 4"`]
    : node.unfinished
      ? [COLORS.unfinished, COLORS.unfinishedFill, 3, ""]
      : [COLORS.node, "#ffffff", 1.2, ""];
  const klass = node.missing ? "node missing" : node.unfinished ? "node unfinished" : "node";
  const text = node.lines.map((line, i) => {
    const color = node.missing ? COLORS.missing : i === 2 && node.unfinished ? COLORS.unfinished : i === 0 ? COLORS.text : COLORS.muted;
    const weight = i === 0 || (i === 2 && node.unfinished) ? ` font-weight="bold"` : "";
    const y = node.y + m.nodePaddingY + (i + 1) * m.lineHeight - 4;
    return `<text x="${round(node.x + node.width / 2)}" y="${round(y)}" text-anchor="middle" fill="${color}"${weight}>${xmlText(line)}</text>`;
  });
  return [
    `<g class="${klass}" data-fqn="${xmlText(node.fqn)}">`,
    `<title>${xmlText(node.fqn)}</title>`,
    `<rect x="${round(node.x)}" y="${round(node.y)}" width="${round(node.width)}" height="${round(node.height)}" rx="6" fill="${fill}" stroke="${stroke}" stroke-width="${strokeWidth}"${dash}/>`,
    ...text,
    `</g>`,
  ].join("");
}

function truncate(text: string, columns: number): string {
  const chars = [...text];
  return chars.length <= columns ? text : `${chars.slice(0, Math.max(0, columns - 1)).join("")}…`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
