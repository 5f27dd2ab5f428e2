import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { cloneJson, containsSecret, isSecret, Secret } from "./secret.js";

describe("Secret", () => {
  it("never shows its value in strings, JSON, inspection or errors, and unwraps on request", () => {
    const s = new Secret("canary-4242");
    expect(String(s)).toBe("[secret]");
    expect(`${s}`).toBe("[secret]");
    expect(JSON.stringify({ token: s })).toBe(`{"token":"[secret]"}`);
    expect(inspect({ token: s })).toBe("{ token: Secret([redacted]) }");
    expect(new Error(`bad ${s}`).message).not.toContain("canary");
    expect(s.unwrap()).toBe("canary-4242");
  });

  it("rejects a value that is not a string, hinting at a missing environment variable", () => {
    expect(() => new Secret(undefined as unknown as string)).toThrow("alchemy.secret() takes a string, got undefined (is the environment variable set?)");
  });

  it("is recognized across copies, kept by cloneJson and found by containsSecret", () => {
    const s = new Secret("x");
    expect(isSecret(s)).toBe(true);
    expect(isSecret({ unwrap: () => "x" })).toBe(false);
    const copy = cloneJson({ a: [1, { s }], b: undefined }) as { a: [number, { s: Secret }] };
    expect(copy.a[1].s).toBe(s);
    expect(copy).not.toHaveProperty("b");
    expect(containsSecret(copy)).toBe(true);
    expect(containsSecret({ a: [1, "x"] })).toBe(false);
  });
});
