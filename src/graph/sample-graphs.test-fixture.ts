/**
 * Stage graphs for the graph tests: the shop (nested and resource scopes,
 * unfinished records, a dependency on a forgotten record), one whose ids and
 * kinds hold every character that is special in XML, DOT or Mermaid, and a
 * larger generated one.
 *
 * @module
 */
import type { ResourceStatus } from "../state/state-store.js";
import { buildStageGraph, type ScopeRecordsInput, type StageGraph } from "./stage-graph.js";

type Rec = { id: string; kind?: string; status?: ResourceStatus; deps?: string[] };

/** The records of `scopes` (path below `app/stage` -> records), as a walk of the stores returns them. */
export function scopesOf(app: string, stage: string, scopes: Record<string, Rec[]>): ScopeRecordsInput[] {
  return Object.entries(scopes).map(([below, records]) => {
    const chain = [app, stage, ...(below === "" ? [] : below.split("/"))];
    return {
      chain,
      records: records.map((r) => ({ id: r.id, fqn: [...chain, r.id].join("/"), kind: r.kind ?? "test::Note", status: r.status ?? "created", deps: r.deps ?? [] })),
    };
  });
}

/**
 * shop/dev: db (with `user` and `schema` in its resource scope), out, and a
 * nested scope `backend` holding api (creating, uses db and a forgotten
 * record) and config (uses out), and `backend/jobs/nightly` (deleting).
 */
export function shopGraph(): StageGraph {
  return buildStageGraph(
    "shop",
    "dev",
    scopesOf("shop", "dev", {
      "": [{ id: "db" }, { id: "out", kind: "fs::Folder" }],
      db: [{ id: "schema", deps: ["shop/dev/db"] }, { id: "user", status: "updating" }],
      backend: [
        { id: "api", status: "creating", deps: ["shop/dev/db", "shop/dev/forgotten", "shop/dev/db"] },
        { id: "config", kind: "fs::File", deps: ["shop/dev/out"] },
      ],
      "backend/jobs": [{ id: "nightly", status: "deleting", deps: ["shop/dev/backend/api"] }],
    }),
  );
}

/** Text a careless renderer would let out of its quotes, tags or statements. */
export const HOSTILE = `a"b'c<d>e&f]g[h}{i|j;k#l\`m\\n--> end %%x\nline`;

/** A stage whose ids and kinds are {@link HOSTILE}, in a scope of that name, depending on each other. */
export function hostileGraph(): StageGraph {
  return buildStageGraph(
    "evil",
    "dev",
    scopesOf("evil", "dev", {
      "": [{ id: `${HOSTILE}1`, kind: `kind<${HOSTILE}>`, status: "creating" }],
      "sc<o>pe": [{ id: `${HOSTILE}2`, kind: "x::Y", deps: [`evil/dev/${HOSTILE}1`, `evil/dev/${HOSTILE}gone`] }],
    }),
  );
}

/**
 * A stage of `n` resources spread over nested and resource scopes up to three
 * deep, each depending on up to three earlier ones; the same for a given seed.
 */
export function generatedGraph(n: number, seed = 1): StageGraph {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const scopes: Record<string, Rec[]> = { "": [] };
  const fqns: string[] = [];
  const paths = [""];
  for (let i = 0; i < n; i++) {
    const r = random();
    let scope = paths[Math.floor(random() * paths.length)]!;
    if (r < 0.15 && scope.split("/").length < 3) {
      scope = scope === "" ? `s${i}` : `${scope}/s${i}`;
      paths.push(scope);
      scopes[scope] = [];
    }
    const deps = fqns.length === 0 ? [] : [...new Set(Array.from({ length: Math.floor(random() * 4) }, () => fqns[Math.floor(random() * fqns.length)]!))];
    const id = `r${i}`;
    scopes[scope]!.push({ id, deps, status: random() < 0.1 ? "updating" : "created" });
    fqns.push(["gen", "dev", ...(scope === "" ? [] : scope.split("/")), id].join("/"));
  }
  return buildStageGraph("gen", "dev", scopesOf("gen", "dev", scopes));
}
