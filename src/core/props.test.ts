import { describe, expect, it } from "vitest";
import { formatSummary } from "./events.js";
import { brandOutput, unknownOutput } from "./output.js";
import { diffJson, jsonEqual, serializeProps } from "./props.js";

const ref = (fqn: string) => ({ fqn, kind: "test::T", id: fqn.split("/").pop()! });

describe("props serialization", () => {
  it("keeps JSON values, drops undefined fields, and turns dates into strings", () => {
    const at = new Date("2026-01-02T03:04:05Z");
    expect(serializeProps({ a: 1, b: undefined, c: [1, undefined], d: at, e: { f: null } }, "app/s/x")).toEqual({
      value: { a: 1, c: [1, null], d: "2026-01-02T03:04:05.000Z", e: { f: null } },
      deps: [],
      unknown: false,
    });
  });

  it("records every resource output found inside, however deep, once each and sorted", () => {
    const a = brandOutput<{ url: string }>({ url: "https://a" }, ref("app/s/a"));
    const b = brandOutput<object>({}, ref("app/s/nested/b"));
    const { value, deps } = serializeProps({ list: [{ deep: { a } }, b], again: a }, "app/s/x");
    expect(deps).toEqual(["app/s/a", "app/s/nested/b"]);
    expect(value).toEqual({ list: [{ deep: { a: { url: "https://a" } } }, {}], again: { url: "https://a" } });
  });

  it("marks props that hold an output not known yet", () => {
    const pending = unknownOutput<{ url: string }>(ref("app/s/a"));
    const result = serializeProps({ whole: pending, field: pending.url }, "app/s/x");
    expect(result.unknown).toBe(true);
    expect(result.deps).toEqual(["app/s/a"]);
    expect(result.value).toEqual({ whole: "(known after apply: app/s/a)", field: "(known after apply: app/s/a.url)" });
  });

  it("rejects functions and cycles with the resource and path in the message", () => {
    expect(() => serializeProps({ handler: () => 1 }, "app/s/x")).toThrow(/Props of "app\/s\/x" hold a function at handler/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => serializeProps({ inner: cyclic }, "app/s/x")).toThrow(/contain a cycle at inner.self/);
  });
});

describe("props comparison", () => {
  it("treats key order as irrelevant and array order as relevant", () => {
    expect(jsonEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(jsonEqual({ b: [1, 2] }, { b: [2, 1] })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: null })).toBe(false);
  });

  it("lists the changed paths with their old and new values", () => {
    expect(diffJson({ a: 1, nested: { keep: true, change: "x" }, list: [1, 2] }, { a: 1, nested: { keep: true, change: "y" }, list: [1], added: 3 })).toEqual([
      { path: "nested.change", before: "x", after: "y" },
      { path: "list[1]", before: 2, after: undefined },
      { path: "added", before: undefined, after: 3 },
    ]);
  });
});

describe("the summary line", () => {
  const base = { created: 0, updated: 0, replaced: 0, deleted: 0, unchanged: 0, failed: 0, elapsedMs: 1400 };

  it("says plainly when nothing changed", () => {
    expect(formatSummary({ ...base, unchanged: 994 })).toBe("No changes: 994 unchanged in 1.4s");
  });

  it("counts each action", () => {
    expect(formatSummary({ ...base, created: 3, updated: 1, deleted: 2, unchanged: 994 })).toBe(
      "created 3, updated 1, deleted 2, unchanged 994 in 1.4s",
    );
    expect(formatSummary({ ...base, created: 1, failed: 2 })).toBe("created 1, updated 0, deleted 0, unchanged 0, failed 2 in 1.4s");
  });
});
