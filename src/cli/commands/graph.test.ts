import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { fromDot, type GraphBaseModel } from "ts-graphviz";
import { beforeAll, describe, expect, it } from "vitest";
import type { StageGraphJson } from "../../graph/json.js";
import { makeProject, removeProject, runAlchemy } from "../cli.test-fixture.js";
import { NOTE, project, removeProjectsAfterEach } from "../note-project.test-fixture.js";

removeProjectsAfterEach();

/** A resource kind that declares one Note per item in its own resource scope. */
const SHELF = `
import { Resource } from "alchemy";
import { Note } from "./note.ts";
export const Shelf = Resource("test::Shelf", async function (id: string, props: { items: string[] }) {
  if (this.phase === "delete") return this.destroy();
  for (const item of props.items) await Note(item, { text: item });
  return { items: props.items };
});
`;

/** shop/dev: db and a shelf (with two notes in its resource scope); backend/api uses db, backend/jobs/nightly uses api and the shelf. */
const PROGRAM = `
import { alchemy, Note } from "./note.ts";
import { Shelf } from "./shelf.ts";
const app = await alchemy("shop");
const db = await Note("db", { text: "db" });
const shelf = await Shelf("shelf", { items: ["a", "b"] });
await alchemy.run("backend", async () => {
  const api = await Note("api", { text: "api", uses: db });
  await alchemy.run("jobs", async () => {
    await Note("nightly", { text: "nightly", uses: [api, shelf] });
  });
});
await app.finalize();
`;

const FQNS = ["shop/dev/backend/api", "shop/dev/backend/jobs/nightly", "shop/dev/db", "shop/dev/shelf", "shop/dev/shelf/a", "shop/dev/shelf/b"];
const EDGES = [
  { from: "shop/dev/backend/api", to: "shop/dev/db" },
  { from: "shop/dev/backend/jobs/nightly", to: "shop/dev/backend/api" },
  { from: "shop/dev/backend/jobs/nightly", to: "shop/dev/shelf" },
];

/** Every path below `dir` with its mode and, for a file, its bytes: equal snapshots mean nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const file = path.join(d, name);
      const stat = statSync(file);
      out[path.relative(dir, file)] = `${stat.mode.toString(8)} ${stat.mtimeMs} ${stat.isDirectory() ? "dir" : readFileSync(file, "base64")}`;
      if (stat.isDirectory()) walk(file);
    }
  };
  walk(dir);
  return out;
}

const clusters = (g: GraphBaseModel): number => g.subgraphs.length + g.subgraphs.reduce((n, s) => n + clusters(s), 0);
const dotNodes = (g: GraphBaseModel): string[] => [...g.nodes.map((n) => n.id), ...g.subgraphs.flatMap(dotNodes)];

describe("alchemy graph", () => {
  let dir: string;
  let state: Record<string, string>;
  beforeAll(async () => {
    dir = makeProject({ "note.ts": NOTE, "shelf.ts": SHELF, "alchemy.run.ts": PROGRAM });
    const deployed = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(deployed.code, deployed.stderr).toBe(0);
    state = snapshot(path.join(dir, ".alchemy"));
    return () => removeProject(dir);
  });

  it("prints the stage as JSON: one node per resource with kind, status and scope, one edge per dependency, and the scopes by kind", async () => {
    const result = await runAlchemy(["graph", "--stage", "dev", "--format", "json"], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    const doc = JSON.parse(result.stdout) as StageGraphJson;
    expect([doc.app, doc.stage]).toEqual(["shop", "dev"]);
    expect(doc.nodes.map((n) => n.fqn)).toEqual(FQNS);
    expect(doc.nodes.find((n) => n.fqn === "shop/dev/shelf/a")).toEqual({ fqn: "shop/dev/shelf/a", kind: "test::Note", status: "created", scope: "shop/dev/shelf" });
    expect(doc.edges).toEqual(EDGES);
    expect(doc.scopes.map((s) => [s.path, s.kind])).toEqual([
      ["shop/dev", "stage"],
      ["shop/dev/backend", "nested"],
      ["shop/dev/backend/jobs", "nested"],
      ["shop/dev/shelf", "resource"],
    ]);
  });

  it("prints valid Graphviz DOT with a cluster per nested or resource scope", async () => {
    const result = await runAlchemy(["graph", "--stage", "dev", "--format", "dot"], dir);
    expect(result.code, result.stderr).toBe(0);
    const parsed = fromDot(result.stdout);
    expect(dotNodes(parsed).sort()).toEqual(FQNS);
    expect(parsed.edges).toHaveLength(EDGES.length);
    expect(clusters(parsed)).toBe(3);
  });

  it("prints a Mermaid flowchart with a subgraph per nested or resource scope", async () => {
    const result = await runAlchemy(["graph", "--stage", "dev", "--format", "mermaid"], dir);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("flowchart TB");
    expect(lines.filter((l) => /^\s*n\d+\["/.test(l))).toHaveLength(FQNS.length);
    expect(lines.filter((l) => / --> /.test(l))).toHaveLength(EDGES.length);
    expect(lines.filter((l) => /^\s*subgraph /.test(l)).map((l) => l.trim())).toEqual(['subgraph s0["backend"]', 'subgraph s1["jobs"]', 'subgraph s2["shelf (resource scope)"]']);
  });

  it("writes well-formed SVG to -o, the format taken from the file's extension, and says what it wrote", async () => {
    const result = await runAlchemy(["graph", "--stage", "dev", "-o", "stage.svg"], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("Wrote the svg graph of shop/dev (6 resources, 3 dependencies) to stage.svg.\n");
    const svg = readFileSync(path.join(dir, "stage.svg"), "utf8");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.match(/<g class="node"/g)).toHaveLength(FQNS.length);
    expect(svg.match(/<polyline class="edge"/g)).toHaveLength(EDGES.length);
    expect(svg.match(/<g class="cluster"/g)).toHaveLength(3);
  });

  it("refuses an unknown --format as a usage error (exit 2) naming the formats it accepts", async () => {
    const result = await runAlchemy(["graph", "--stage", "dev", "--format", "png"], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'png' is invalid. Allowed choices are svg, dot, mermaid, json.");
    expect(result.stdout).toBe("");
  });

  it("names the stage, the store and the stages that have records when the stage has none, exit 1", async () => {
    const result = await runAlchemy(["graph", "--stage", "prod", "--format", "json"], dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `error: Stage "prod" of application "shop" has no records in ${path.join(dir, ".alchemy")}, so there is no graph to draw. ` +
        "Stages with records: dev; choose one with --stage <stage>.\n",
    );
  });

  it("leaves the state directory byte for byte as it was, after every run above and for a stage that does not exist", async () => {
    for (const stage of ["dev", "nowhere"]) await runAlchemy(["graph", "--stage", stage], dir);
    expect(snapshot(path.join(dir, ".alchemy"))).toEqual(state);
  });
});

describe("alchemy graph on other stores and states", () => {
  it("reads a stage kept in SQLite through --state, without writing to it", async () => {
    const dir = project(`const db = await Note("db", { text: "db" });\nawait Note("api", { text: "api", uses: db });`);
    expect((await runAlchemy(["deploy", "--stage", "dev", "--state", "sqlite:state.sqlite"], dir)).code).toBe(0);
    const before = readFileSync(path.join(dir, "state.sqlite"));
    const files = readdirSync(dir).sort();
    const result = await runAlchemy(["graph", "--stage", "dev", "--state", "sqlite:state.sqlite", "--app", "shop", "--format", "json"], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).edges).toEqual([{ from: "shop/dev/api", to: "shop/dev/db" }]);
    expect(readFileSync(path.join(dir, "state.sqlite")).equals(before)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(files);
  });

  it("draws a dependency on a forgotten record dashed and says so on stderr", async () => {
    const dir = project(`const db = await Note("db", { text: "db" });\nawait Note("api", { text: "api", uses: db });`);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    expect((await runAlchemy(["state", "rm", "shop/dev/db"], dir)).code).toBe(0);
    const result = await runAlchemy(["graph", "--stage", "dev", "--format", "json"], dir);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).edges).toEqual([{ from: "shop/dev/api", to: "shop/dev/db", missing: true }]);
    expect(result.stderr).toBe("! shop/dev/api depends on shop/dev/db, which has no record in stage shop/dev (drawn dashed).\n");
  });

  it("says no application is recorded, and creates no state directory, in a project never deployed", async () => {
    const dir = project(`await Note("db", { text: "db" });`);
    const result = await runAlchemy(["graph", "--stage", "dev"], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`No application is recorded in the state directory ${path.join(dir, ".alchemy")}`);
    expect(readdirSync(dir)).not.toContain(".alchemy");
  });
});
