import { describe, expect, it } from "vitest";
import { StateStoreError } from "../core/errors.js";
import { parseStageMeta, stageMetaProblem, stageMetaText } from "./stage-meta.js";

describe("stage metadata as JSON", () => {
  it("accepts a plain object of JSON values, also one without a prototype", () => {
    expect(stageMetaProblem({ a: [1, "x", null, true, { b: -0.5 }], "key with spaces": {} })).toBeUndefined();
    expect(stageMetaProblem(Object.assign(Object.create(null) as object, { a: 1 }))).toBeUndefined();
  });

  it("names the first value JSON cannot hold exactly, with its path", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = { again: cycle };
    const cases: Array<[unknown, string]> = [
      [null, "is null, not a plain object"],
      [["a"], "is an array, not a plain object"],
      [new Date(0), "is a Date, not a plain object"],
      [{ secrets: { salt: new Uint8Array(2) } }, "meta.secrets.salt is a Uint8Array, not a plain object"],
      [{ list: [1, undefined] }, "meta.list[1] is undefined (omit the key instead), which JSON cannot hold"],
      [{ "a-b": NaN }, 'meta["a-b"] is NaN, which JSON cannot hold'],
      [{ n: 1n }, "meta.n is a bigint, which JSON cannot hold"],
      [{ f: () => 1 }, "meta.f is a function, which JSON cannot hold"],
      [cycle, "meta.self.again refers back to an object that holds it (a cycle)"],
    ];
    for (const [value, problem] of cases) expect(stageMetaProblem(value)).toBe(problem);
  });

  it("accepts an object shared by two keys, which is not a cycle", () => {
    const shared = { x: 1 };
    expect(stageMetaProblem({ a: shared, b: [shared, shared] })).toBeUndefined();
  });

  it("refuses to serialize a bad value with a StateStoreError naming the location", () => {
    const error = (() => {
      try {
        stageMetaText({ when: new Date() }, "/abs/app/dev/~stage.json");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).location).toBe("/abs/app/dev/~stage.json");
    expect((error as Error).message).toMatch(/Refusing to write the stage metadata at \/abs\/app\/dev\/~stage\.json: the value meta\.when is a Date/);
  });

  it("parses what it wrote back to an equal object, and rejects text that is not an object's JSON", () => {
    const meta = { z: 1, a: { "数据": ["✓"] } };
    expect(parseStageMeta(stageMetaText(meta, "here", 2), "here", "Fix it.")).toEqual(meta);
    expect(() => parseStageMeta(42, "here", "Fix it.")).toThrow(/The stage metadata at here holds number data, not JSON text\. Nothing was changed\. Fix it\./);
    expect(() => parseStageMeta('"text"', "here", "Fix it.")).toThrow(/is a string, not a JSON object/);
  });
});
