/**
 * The dependency graph of one stage, built from its records as a store holds
 * them: one node per record, one edge per dependency (dependent -> dependency),
 * and the scopes that contain the nodes (the stage itself, nested scopes and
 * resource scopes). Every format (`json`, `dot`, `mermaid`, `svg`) and the
 * layout are drawn from this model, so they agree on what is in the stage.
 *
 * @module
 */
import type { ResourceStatus, State } from "../state/state-store.js";

/** The records directly in one scope, as a walk of the stage's stores gives them. */
export interface ScopeRecordsInput {
  /** The scope: app, stage, then nested or resource scope names. */
  chain: readonly string[];
  /** Its records. */
  records: readonly Pick<State, "fqn" | "id" | "kind" | "status" | "deps">[];
}

/** One resource of the stage. */
export interface GraphNode {
  /** Fully qualified name, e.g. `shop/dev/backend/api`. */
  fqn: string;
  /** The record's id in its scope (the last segment of `fqn`). */
  id: string;
  /** Resource kind, e.g. `fs::File`. */
  kind: string;
  /** The record's status; `creating`, `updating` and `deleting` mean a run stopped part-way (see {@link isUnfinished}). */
  status: ResourceStatus;
  /** Path of the scope that holds the record, e.g. `shop/dev/backend`. */
  scope: string;
}

/** A dependency: `from` uses an output of `to`. */
export interface GraphEdge {
  /** fqn of the dependent. */
  from: string;
  /** fqn of the dependency. */
  to: string;
  /**
   * Set when `to` names no record of the stage (it was forgotten with
   * `alchemy state rm`, or lives in another stage): drawn dashed, to a
   * dashed placeholder node.
   */
  missing?: true;
}

/**
 * What a scope is: the stage itself, a nested scope (`alchemy.run("backend", ...)`),
 * or the resource scope of the resource whose handler declared its records.
 */
export type ScopeKind = "stage" | "nested" | "resource";

/** A scope of the stage that holds at least one record somewhere below it. */
export interface GraphScope {
  /** Its path, e.g. `shop/dev/backend`. */
  path: string;
  /** Its own name, e.g. `backend`; the stage's name for the stage. */
  name: string;
  kind: ScopeKind;
  /** Path of the enclosing scope; absent for the stage. */
  parent?: string;
  /** For a resource scope: fqn of the resource that owns it. */
  owner?: string;
}

/**
 * The graph of one stage.
 *
 * @example
 * const graph = buildStageGraph("shop", "dev", await session.walk(["shop", "dev"]));
 * graph.nodes.map((n) => n.fqn); // ["shop/dev/backend/api", "shop/dev/db", ...]
 */
export interface StageGraph {
  app: string;
  stage: string;
  /** Sorted by fqn. */
  nodes: GraphNode[];
  /** Sorted by `from`, then `to`; each dependency once. */
  edges: GraphEdge[];
  /** The stage first, then every other scope by path. */
  scopes: GraphScope[];
}

const UNFINISHED: ReadonlySet<ResourceStatus> = new Set(["creating", "updating", "deleting"]);

/**
 * Whether a record was left part-way by a run that stopped (`creating`,
 * `updating`, `deleting`): every format marks such a node apart.
 *
 * @example
 * isUnfinished("creating"); // true
 * isUnfinished("created"); // false
 */
export function isUnfinished(status: ResourceStatus): boolean {
  return UNFINISHED.has(status);
}

/**
 * Code-point order, the same on every machine (not the locale's).
 *
 * @example
 * ["b", "B", "a"].sort(byCodePoint); // ["B", "a", "b"]
 */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds the graph of stage `stage` of `app` from the records of its scopes
 * (as {@link import("../cli/state-access.js").StateSession.walk} returns them).
 * A scope named like a record of its parent scope is that record's resource
 * scope; any other is a nested scope. Scopes without records between the
 * stage and a deeper scope are added, so every scope has its parent.
 *
 * @example
 * buildStageGraph("shop", "dev", [{ chain: ["shop", "dev"], records: [db, api] }]);
 */
export function buildStageGraph(app: string, stage: string, scopeRecords: readonly ScopeRecordsInput[]): StageGraph {
  const stagePath = `${app}/${stage}`;
  const recordIds = new Map<string, Set<string>>();
  const nodes: GraphNode[] = [];
  for (const { chain, records } of scopeRecords) {
    const scope = chain.join("/");
    const ids = recordIds.get(scope) ?? new Set<string>();
    recordIds.set(scope, ids);
    for (const r of records) {
      ids.add(r.id);
      nodes.push({ fqn: r.fqn, id: r.id, kind: r.kind, status: r.status, scope });
    }
  }
  nodes.sort((a, b) => byCodePoint(a.fqn, b.fqn));

  const scopes = new Map<string, GraphScope>([[stagePath, { path: stagePath, name: stage, kind: "stage" }]]);
  const addScope = (chain: readonly string[]): void => {
    const path = chain.join("/");
    if (scopes.has(path) || chain.length <= 2) return;
    const parentChain = chain.slice(0, -1);
    addScope(parentChain);
    const parent = parentChain.join("/");
    const name = chain[chain.length - 1]!;
    const owned = recordIds.get(parent)?.has(name) === true;
    scopes.set(path, owned ? { path, name, kind: "resource", parent, owner: `${parent}/${name}` } : { path, name, kind: "nested", parent });
  };
  for (const { chain } of scopeRecords) addScope(chain);

  const known = new Set(nodes.map((n) => n.fqn));
  const edges = new Map<string, GraphEdge>();
  for (const { records } of scopeRecords) {
    for (const r of records) {
      for (const dep of r.deps ?? []) {
        const edge: GraphEdge = known.has(dep) ? { from: r.fqn, to: dep } : { from: r.fqn, to: dep, missing: true };
        edges.set(JSON.stringify([edge.from, edge.to]), edge);
      }
    }
  }
  return {
    app,
    stage,
    nodes,
    edges: [...edges.values()].sort((a, b) => byCodePoint(a.from, b.from) || byCodePoint(a.to, b.to)),
    scopes: [...scopes.values()].sort((a, b) => (a.kind === "stage" ? -1 : b.kind === "stage" ? 1 : byCodePoint(a.path, b.path))),
  };
}

/**
 * The fqns that edges name but no node has, sorted: the placeholders every
 * drawing shows dashed.
 *
 * @example
 * missingTargets(graph); // ["shop/dev/forgotten"]
 */
export function missingTargets(graph: StageGraph): string[] {
  return [...new Set(graph.edges.filter((e) => e.missing).map((e) => e.to))].sort(byCodePoint);
}

/**
 * The scopes directly inside `path`, and the nodes directly in it, for
 * formats that nest clusters.
 *
 * @example
 * scopeContents(graph, "shop/dev").scopes.map((s) => s.name); // ["backend", "db"]
 */
export function scopeContents(graph: StageGraph, path: string): { scopes: GraphScope[]; nodes: GraphNode[] } {
  return { scopes: graph.scopes.filter((s) => s.parent === path), nodes: graph.nodes.filter((n) => n.scope === path) };
}

/**
 * The status line a drawing shows under a node's kind: for a record a run
 * left part-way, `! creating (unfinished)`; for `deleted`, `deleted`; none
 * for `created` and `updated`.
 *
 * @example
 * statusLine("updating"); // "! updating (unfinished)"
 */
export function statusLine(status: ResourceStatus): string | undefined {
  if (isUnfinished(status)) return `! ${status} (unfinished)`;
  return status === "deleted" ? "deleted" : undefined;
}

/**
 * The title a drawing gives a scope's cluster: the stage's path, a nested
 * scope's name, or `<name> (resource scope)`.
 *
 * @example
 * scopeTitle({ path: "shop/dev/db", name: "db", kind: "resource", parent: "shop/dev", owner: "shop/dev/db" }); // "db (resource scope)"
 */
export function scopeTitle(scope: GraphScope): string {
  if (scope.kind === "stage") return scope.path;
  return scope.kind === "resource" ? `${scope.name} (resource scope)` : scope.name;
}

/**
 * The label lines of a node: its id, its kind, and its {@link statusLine} if any.
 *
 * @example
 * nodeLines(api); // ["api", "test::Note", "! creating (unfinished)"]
 */
export function nodeLines(node: GraphNode): string[] {
  const status = statusLine(node.status);
  return status === undefined ? [node.id, node.kind] : [node.id, node.kind, status];
}
