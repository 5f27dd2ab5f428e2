import { describe, expect, it } from "vitest";
import { Resource, type Context } from "alchemy";
import { useTestProject } from "../providers/test-project.test-fixture.js";
import { toError } from "./errors.js";

let thrown: () => unknown = () => undefined;
const Failing = Resource("test::ThrowingProbe", async function (this: Context<object, unknown>): Promise<object> {
  if (this.phase === "delete") return this.destroy();
  throw thrown();
});

const project = useTestProject("alchemy-thrown-");

describe("toError", () => {
  it("keeps an Error, and keeps anything else as the cause of the Error it makes", () => {
    const error = new RangeError("x");
    expect(toError(error)).toBe(error);
    const plain = { message: "quota exceeded", code: 429 };
    expect(toError(plain)).toMatchObject({ message: "quota exceeded", cause: plain });
  });

  it("survives a message getter that throws", () => {
    const hostile = {
      get message(): string {
        throw new Error("no");
      },
    };
    expect(toError(hostile).message).toBe("a non-error value was thrown: { message: [Getter] }");
  });
});

describe("what a handler throws", () => {
  it.each([
    ["a plain object with a message", () => ({ message: "quota exceeded", code: 429 }), 'Failed to create "test-app/t/api": quota exceeded'],
    ["an object without a message", () => ({ code: 429 }), 'Failed to create "test-app/t/api": a non-error value was thrown: { code: 429 }'],
    ["a string", () => "no capacity", 'Failed to create "test-app/t/api": no capacity'],
    ["undefined", () => undefined, 'Failed to create "test-app/t/api": a non-error value was thrown: undefined'],
  ])("shows %s by what it says, not [object Object]", async (_what, make, expected) => {
    thrown = make;
    const error = await project.deploy(() => Failing("api", {})).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(expected);
  });
});
