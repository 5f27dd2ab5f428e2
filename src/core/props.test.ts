import { describe, expect, it } from "vitest";
import { formatSummary, SummaryCounter } from "./events.js";
import { brandOutput, trackUnknownReads, unknownOutput } from "./output.js";
import { UnstorableValueError } from "./errors.js";
import { diffJson, holdsUnknown, isUncertainChange, jsonEqual, pathsOverlap, serializeProps } from "./props.js";
import { MAX_DEPTH } from "./storable.js";

const ref = (fqn: string) => ({ fqn, kind: "test::T", id: fqn.split("/").pop()! });

describe("props serialization", () => {
  it("keeps JSON values and drops undefined fields as JSON does", () => {
    expect(serializeProps({ a: 1, b: undefined, c: [1, undefined], e: { f: null }, z: -0 }, "app/s/x")).toEqual({
      value: { a: 1, c: [1, null], e: { f: null }, z: 0 },
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
    expect(() => serializeProps({ handler: () => 1 }, "app/s/x")).toThrow(
      'Props of "app/s/x" cannot be stored: props.handler is a function. Props must hold JSON values',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => serializeProps({ inner: cyclic }, "app/s/x")).toThrow(
      'Props of "app/s/x" cannot be stored: props.inner.self refers back to props.inner (a cycle). Stored values must be trees',
    );
  });
});

describe("props that JSON would change", () => {
  const refusal = (props: unknown): UnstorableValueError => {
    try {
      serializeProps(props, "app/s/x");
    } catch (error) {
      if (error instanceof UnstorableValueError) return error;
      throw error;
    }
    throw new Error("serializeProps accepted the props");
  };

  it("refuses a Map, naming the resource, the prop path and what to use instead", () => {
    const error = refusal({ tags: new Map([["team", "web"]]) });
    expect(error.message).toBe(
      'Props of "app/s/x" cannot be stored: props.tags is a Map, which JSON stores as {} (its entries and their changes would be lost). ' +
        "Use a plain object instead, e.g. Object.fromEntries(map).",
    );
    expect([error.fqn, error.path, error.operation]).toEqual(["app/s/x", "props.tags", "plan"]);
  });

  it.each([
    ["a Set", { ids: new Set([1]) }, "props.ids", "[...set]"],
    ["a Date", { config: { when: new Date(0) } }, "props.config.when", "date.toISOString()"],
    ["NaN", { ratio: NaN }, "props.ratio", "is NaN, which JSON stores as null"],
    ["Infinity", { list: [1, -Infinity] }, "props.list[1]", "is -Infinity, which JSON stores as null"],
    ["a URL", { endpoint: new URL("https://a.example") }, "props.endpoint", "url.href"],
    ["a RegExp", { match: /a+/ }, "props.match", "regex.source"],
    ["a Buffer", { body: Buffer.from("x") }, "props.body", 'toString("base64")'],
    ["a Promise (a missing await)", { db: Promise.resolve({}) }, "props.db", "a missing await"],
    ["an Error", { last: new TypeError("x") }, "props.last", "error.message"],
    ["a boxed string", { name: new String("x") }, "props.name", "value.valueOf()"],
    ["a BigInt", { size: 1n }, "props.size", "value.toString()"],
    ["a symbol", { tag: Symbol("x") }, "props.tag", "Use a string instead"],
    ["an instance of a class", { conf: new (class Config { a = 1; })() }, "props.conf", "is an instance of Config"],
    ["an object with a prototype", { conf: Object.create({ inherited: 1 }) }, "props.conf", "an object with a prototype"],
    ["a getter", { config: { get when() { return Date.now(); } } }, "props.config.when", "is a getter"],
    ["an array with named properties", { m: Object.assign(["a"], { index: 0 }) }, "props.m", 'extra property "index"'],
    ["a sealed-secret look-alike", { token: { "@secret": "abc" } }, "props.token", 'only key is "@secret"'],
    ["a key that is not an identifier", { labels: { "app.kubernetes.io/name": new Set() } }, 'props.labels["app.kubernetes.io/name"]', "[...set]"],
  ])("refuses %s, with its path", (_what, props, path, hint) => {
    const error = refusal(props);
    expect(error.path).toBe(path);
    expect(error.message).toContain(`Props of "app/s/x" cannot be stored: ${path} `);
    expect(error.message).toContain(hint);
  });

  it("stores sparse-array holes as null, so what state holds equals the next run's props and no change is seen", () => {
    const sparse = () => ({ list: [1, , 3] });
    const { value } = serializeProps(sparse(), "app/s/x");
    expect(Object.keys((value as { list: unknown[] }).list)).toEqual(["0", "1", "2"]);
    const stored = JSON.parse(JSON.stringify(value));
    expect(stored).toEqual({ list: [1, null, 3] });
    expect(jsonEqual(stored, serializeProps(sparse(), "app/s/x").value)).toBe(true);
  });

  it("keeps an own __proto__ key as data, through JSON and in comparisons", () => {
    const props = JSON.parse('{"headers": {"__proto__": {"x": 1}, "a": 2}}');
    const { value } = serializeProps(props, "app/s/x");
    const headers = (value as { headers: object }).headers;
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.keys(headers)).toEqual(["__proto__", "a"]);
    const stored = JSON.parse(JSON.stringify(value));
    expect(jsonEqual(stored, value)).toBe(true);
    expect(jsonEqual(stored, { headers: { a: 2 } })).toBe(false);
    expect(diffJson({ headers: { a: 2 } }, stored)).toEqual([{ path: "headers.__proto__", before: undefined, after: { x: 1 } }]);
  });

  it("accepts objects with a null prototype and shared (not circular) parts", () => {
    const shared = { a: 1 };
    const bare = Object.assign(Object.create(null) as object, { k: "v" });
    expect(serializeProps({ one: shared, two: shared, bare }, "app/s/x").value).toEqual({ one: { a: 1 }, two: { a: 1 }, bare: { k: "v" } });
  });

  it(`accepts ${MAX_DEPTH} levels of nesting and refuses one more with the path, not a stack overflow`, () => {
    const nest = (levels: number) => {
      let value: Record<string, unknown> = {};
      for (let i = 1; i < levels; i++) value = { a: value };
      return value;
    };
    expect(() => serializeProps(nest(MAX_DEPTH), "app/s/x")).not.toThrow();
    const error = refusal(nest(MAX_DEPTH + 1));
    expect(error.message).toMatch(
      new RegExp(`^Props of "app/s/x" cannot be stored: props\\.a\\.a\\.a\\.a\\.a\\.a…\\(${MAX_DEPTH - 10} more\\)…\\.a\\.a\\.a\\.a nests deeper than ${MAX_DEPTH} levels\\. `),
    );
    expect(refusal(nest(5000)).message).toContain(`nests deeper than ${MAX_DEPTH} levels`);
    let list: unknown[] = [];
    for (let i = 0; i < 5000; i++) list = [list];
    expect(refusal({ list }).path).toMatch(/^props\.list\[0\]/);
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

describe("declared prop paths", () => {
  it("match a change at the path, inside it, or of a value that holds it; * stands for one key or index", () => {
    expect(pathsOverlap("name", "name")).toBe(true);
    expect(pathsOverlap("bindings.KV.id", "bindings.KV")).toBe(true);
    expect(pathsOverlap("parent", "parent.path")).toBe(true);
    expect(pathsOverlap("tags[2]", "tags[*]")).toBe(true);
    expect(pathsOverlap("env.db.name", "env.*.name")).toBe(true);
    expect(pathsOverlap("env.db.port", "env.*.name")).toBe(false);
    expect(pathsOverlap("clean", "path")).toBe(false);
    expect(pathsOverlap("pathname", "path")).toBe(false);
    expect(pathsOverlap("list[10]", "list[1]")).toBe(false);
  });
});

describe("planned props", () => {
  it("hold an unknown also inside a string made from one, and only a change to an unknown is uncertain", () => {
    const folder = unknownOutput<{ path: string }>(ref("app/s/out"));
    const planned = serializeProps({ index: `${folder.path}/index.html`, nested: [{ folder }] }, "app/s/page").value;
    expect(holdsUnknown(planned)).toBe(true);
    expect(holdsUnknown({ index: "out/index.html" })).toBe(false);
    const changes = diffJson({ index: "out/index.html", nested: "x", size: 1 }, { ...(planned as object), size: 2 });
    expect(changes.map((c) => [c.path, isUncertainChange(c)])).toEqual([
      ["index", true],
      ["nested", false],
      ["size", false],
    ]);
  });
});

describe("reads of planned props", () => {
  it("note a value known only after apply read anywhere, also inside frozen objects, and nothing else", () => {
    const out = unknownOutput<{ path: string }>(ref("app/s/out"));
    const props = Object.freeze({ name: "a", nested: Object.freeze({ deeper: Object.freeze({ dir: out.path }) }), list: [1, 2], out });
    type Props = typeof props;
    expect(trackUnknownReads(props, (p) => `${(p as Props).name}${(p as Props).list.map((x) => x * 2).join()}`)).toEqual({ readUnknown: false, threw: false, result: "a2,4" });
    expect(trackUnknownReads(props, (p) => Object.keys((p as Props).nested.deeper))).toMatchObject({ readUnknown: false, result: ["dir"] });
    expect(trackUnknownReads(props, (p) => String((p as Props).nested.deeper.dir))).toMatchObject({ readUnknown: true });
    expect(trackUnknownReads(props, (p) => (p as Props).out !== undefined)).toMatchObject({ readUnknown: true });
    expect(trackUnknownReads({ path: `${out.path}/x` }, (p) => (p as { path: string }).path.length)).toMatchObject({ readUnknown: true });
    expect(trackUnknownReads(props, () => {
      throw new Error("no");
    })).toMatchObject({ readUnknown: false, threw: true });
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

  it("counts a plan's replacements, and the resources whose action is known only after deploy, apart", () => {
    expect(formatSummary({ ...base, updated: 3, replaced: 2, deleted: 2, unchanged: 1 }, true)).toBe(
      "Plan: 0 to create, 3 to update, 2 to replace, 2 to delete, 1 unchanged (1.4s)",
    );
    expect(formatSummary({ ...base, updated: 1, undecided: 1, unchanged: 4 }, true)).toBe(
      "Plan: 0 to create, 1 to update, 0 to delete, 1 may change (known after deploy), 4 unchanged (1.4s)",
    );
    expect(formatSummary({ ...base, undecided: 1, unchanged: 5 }, true)).not.toMatch(/No changes/);
  });

  it("counts a planned event with alternatives as undecided, not as its action", () => {
    const counter = new SummaryCounter();
    counter.count({ fqn: "a/b/c", kind: "k", action: "update", status: "planned", alternatives: ["noop"] });
    counter.count({ fqn: "a/b/d", kind: "k", action: "replace", status: "planned" });
    expect(counter.summary).toMatchObject({ updated: 0, replaced: 1, undecided: 1 });
  });
});
