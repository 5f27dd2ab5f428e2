/**
 * The stage graph as one JSON document, for scripts and a later web UI.
 *
 * @module
 */
import type { ResourceStatus } from "../state/state-store.js";
import type { GraphScope, StageGraph } from "./stage-graph.js";

/**
 * What `alchemy graph --format json` prints.
 *
 * @example
 * { "app": "shop", "stage": "dev",
 *   "nodes": [{ "fqn": "shop/dev/backend/api", "kind": "test::Note", "status": "created", "scope": "shop/dev/backend" }],
 *   "edges": [{ "from": "shop/dev/backend/api", "to": "shop/dev/db" }],
 *   "scopes": [{ "path": "shop/dev", "name": "dev", "kind": "stage" }, { "path": "shop/dev/backend", "name": "backend", "kind": "nested", "parent": "shop/dev" }] }
 */
export interface StageGraphJson {
  app: string;
  stage: string;
  nodes: { fqn: string; kind: string; status: ResourceStatus; scope: string }[];
  /** `missing: true` when `to` names no record of the stage. */
  edges: { from: string; to: string; missing?: true }[];
  scopes: GraphScope[];
}

/**
 * The document of {@link StageGraphJson}, as pretty JSON with a final newline.
 *
 * @example
 * JSON.parse(toJson(graph)).nodes.length; // one per record
 */
export function toJson(graph: StageGraph): string {
  const doc: StageGraphJson = {
    app: graph.app,
    stage: graph.stage,
    nodes: graph.nodes.map(({ fqn, kind, status, scope }) => ({ fqn, kind, status, scope })),
    edges: graph.edges.map(({ from, to, missing }) => (missing ? { from, to, missing } : { from, to })),
    scopes: graph.scopes,
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
