import { describe, expect, it } from "vitest";
import { ReadBatcher } from "./read-batcher.js";

describe("ReadBatcher", () => {
  it("answers reads of one group made together with one load per group, missing keys as undefined", async () => {
    const loads: Array<[string, string[]]> = [];
    const reads = new ReadBatcher<string>(async (group, keys) => {
      loads.push([group, keys]);
      return new Map(keys.filter((k) => k !== "missing").map((k) => [k, `${group}:${k}`]));
    });
    const values = await Promise.all([reads.read("s1", "a"), reads.read("s1", "b"), reads.read("s2", "a"), reads.read("s1", "a"), reads.read("s1", "missing")]);
    expect(values).toEqual(["s1:a", "s1:b", "s2:a", "s1:a", undefined]);
    expect(loads).toEqual([["s1", ["a", "b", "missing"]], ["s2", ["a"]]]);
  });

  it("splits a group at maxKeys and rejects every read of a failed load", async () => {
    const reads = new ReadBatcher<string>(async (_group, keys) => {
      if (keys.includes("bad")) throw new Error("connection lost");
      return new Map(keys.map((k) => [k, k]));
    }, 2);
    const results = await Promise.allSettled(["a", "b", "c", "bad"].map((k) => reads.read("s", k)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "rejected"]);
  });
});
