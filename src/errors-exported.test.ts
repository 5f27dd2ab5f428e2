import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as alchemy from "./index.js";

describe("the package's errors", () => {
  it("exports every error class core/errors.ts defines, so a program can catch each one by class", () => {
    const source = readFileSync(new URL("./core/errors.ts", import.meta.url), "utf8");
    const defined = [...source.matchAll(/^export class (\w+Error) /gm)].map((m) => m[1]);
    expect(defined.length).toBeGreaterThan(5);
    const exported = alchemy as unknown as Record<string, unknown>;
    expect(defined.filter((name) => typeof exported[name] !== "function")).toEqual([]);
  });
});
