import { describe, expect, it } from "vitest";
import type { StageGraphJson } from "./json.js";
import { toJson } from "./json.js";
import { hostileGraph, HOSTILE, shopGraph } from "./sample-graphs.test-fixture.js";

describe("toJson", () => {
  it("prints app, stage, one node per resource with fqn, kind, status and scope, one edge per dependency, and the scopes", () => {
    const doc = JSON.parse(toJson(shopGraph())) as StageGraphJson;
    expect(Object.keys(doc)).toEqual(["app", "stage", "nodes", "edges", "scopes"]);
    expect([doc.app, doc.stage]).toEqual(["shop", "dev"]);
    expect(doc.nodes).toHaveLength(7);
    expect(doc.nodes[0]).toEqual({ fqn: "shop/dev/backend/api", kind: "test::Note", status: "creating", scope: "shop/dev/backend" });
    expect(doc.edges).toHaveLength(5);
    expect(doc.edges).toContainEqual({ from: "shop/dev/backend/api", to: "shop/dev/forgotten", missing: true });
    expect(doc.scopes.map((s) => s.kind)).toEqual(["stage", "nested", "nested", "resource"]);
  });

  it("keeps hostile ids exact: JSON escapes them", () => {
    const doc = JSON.parse(toJson(hostileGraph())) as StageGraphJson;
    expect(doc.nodes.map((n) => n.fqn)).toEqual([`evil/dev/${HOSTILE}1`, `evil/dev/sc<o>pe/${HOSTILE}2`]);
  });
});
