import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { alchemy, Resource, UnstorableValueError, type Context } from "alchemy";
import { useTestProject } from "../providers/test-project.test-fixture.js";
import { MAX_DEPTH } from "./storable.js";

/** A resource that returns what the test asks for and counts its calls. */
let calls: string[] = [];
let output: () => unknown = () => ({ ok: true });
let deleteResult: (() => unknown) | undefined;
const Probe = Resource("test::StorableProbe", async function (this: Context<object, unknown>, _id: string, _props: unknown): Promise<object> {
  calls.push(this.phase);
  if (this.phase === "delete") return (deleteResult?.() as object | undefined) ?? this.destroy();
  return output() as object;
});

const project = useTestProject("alchemy-storable-");

function reset(next: { output?: () => unknown; deleteResult?: () => unknown } = {}) {
  calls = [];
  output = next.output ?? (() => ({ ok: true }));
  deleteResult = next.deleteResult;
}

function stageFiles(): string[] {
  const dir = path.join(project.root, ".alchemy", "test-app", "t");
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".json") && !name.startsWith("~")) : [];
}

async function deployError(props: unknown): Promise<Error> {
  const error = await project.deploy(() => Probe("api", props)).then(
    () => undefined,
    (thrown: unknown) => thrown as Error,
  );
  if (!error) throw new Error("the deploy succeeded");
  return error;
}

describe("props that cannot be stored exactly", () => {
  it("refuses a Map before any state is written or handler called, naming the resource and the prop path", async () => {
    reset();
    const error = await deployError({ tags: new Map([["team", "web"]]) });
    expect(error).toBeInstanceOf(UnstorableValueError);
    expect(error.message).toBe(
      'Props of "test-app/t/api" cannot be stored: props.tags is a Map, which JSON stores as {} (its entries and their changes would be lost). ' +
        "Use a plain object instead, e.g. Object.fromEntries(map).",
    );
    expect(calls).toEqual([]);
    expect(stageFiles()).toEqual([]);
  });

  it("refuses props nested 5,000 levels deep with the path instead of overflowing the stack", async () => {
    reset();
    let deep: unknown = {};
    for (let i = 0; i < 5000; i++) deep = { next: deep };
    const error = await deployError({ deep });
    expect(error.message).toMatch(/^Props of "test-app\/t\/api" cannot be stored: props\.deep\.next\.next.*…(\.next)+ nests deeper than \d+ levels\. /);
    expect(calls).toEqual([]);
    expect(stageFiles()).toEqual([]);
  });

  it("does not see a change in a sparse array on the next deploy", async () => {
    reset();
    const props = () => ({ list: [1, , 3] });
    await project.deploy(() => Probe("api", props()));
    const { app } = await project.deploy(() => Probe("api", props()));
    expect(project.actions(app, "test-app/t/api")).toEqual(["noop"]);
    expect(calls).toEqual(["create"]);
    expect((await project.record("api"))!.props).toEqual({ list: [1, null, 3] });
  });

  it("keeps an own __proto__ key as data in the record, also beside a secret, and sees no change on the next deploy", async () => {
    reset();
    const props = () => ({ headers: JSON.parse('{"__proto__": "x-proto", "a": "1"}'), token: alchemy.secret("s3cret") });
    const options = { password: "storable-test-password" };
    await project.deploy(() => Probe("api", props()), options);
    const file = readFileSync(path.join(project.root, ".alchemy", "test-app", "t", "api.json"), "utf8");
    expect(JSON.parse(file).props.headers).toEqual(JSON.parse('{"__proto__": "x-proto", "a": "1"}'));
    const { app } = await project.deploy(() => Probe("api", props()), options);
    expect(project.actions(app, "test-app/t/api")).toEqual(["noop"]);
    expect(calls).toEqual(["create"]);
  });
});

describe("outputs that cannot be stored exactly", () => {
  it("refuses an output holding a function with the resource and the path, leaving the record creating", async () => {
    reset({ output: () => ({ url: "https://a", client: { send: () => 1 } }) });
    const error = await deployError({});
    expect(error).toBeInstanceOf(UnstorableValueError);
    expect(error.message).toBe(
      'The create handler of "test-app/t/api" returned an output that cannot be stored: output.client.send is a function. ' +
        "An output must hold JSON values (strings, numbers, booleans, null, arrays, plain objects), secrets or resource outputs. " +
        "The output was not recorded.",
    );
    expect((await project.record("api"))!.status).toBe("creating");
  });

  it.each([
    ["circular", () => {
      const out: Record<string, unknown> = { name: "a" };
      out.self = { back: out };
      return out;
    }, "output.self.back refers back to output (a cycle)"],
    ["5,000 levels deep", () => {
      let deep: unknown = {};
      for (let i = 0; i < 5000; i++) deep = [deep];
      return { deep };
    }, `nests deeper than ${MAX_DEPTH} levels`],
    ["holding a Date", () => ({ at: new Date(0) }), "output.at is a Date, which would come back from state as a string"],
  ])("refuses an output that is %s with the resource and the path", async (_what, make, expected) => {
    reset({ output: make });
    const error = await deployError({});
    expect(error.message).toContain('The create handler of "test-app/t/api" returned an output that cannot be stored: ');
    expect(error.message).toContain(expected);
  });

  it.each([
    ["a function", () => () => 1],
    ["a bigint", () => 1n],
  ])("says the handler returned %s instead of failing to print it", async (what, make) => {
    reset({ output: make });
    const error = await deployError({});
    expect(error.message).toBe(`Failed to create "test-app/t/api": The handler of "test-app/t/api" returned ${what} from create; return an object (the resource's output).`);
  });

  it("hands an output's own __proto__ key to the program and the record as data", async () => {
    reset({ output: () => JSON.parse('{"__proto__": "kept", "url": "https://a"}') });
    const { result } = await project.deploy(() => Probe("api", {}));
    expect(Object.keys(result)).toEqual(["__proto__", "url"]);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys((await project.record("api"))!.output as object)).toEqual(["__proto__", "url"]);
  });

  it("lets a delete handler return anything: nothing of it is recorded", async () => {
    reset({ deleteResult: () => ({ client: { close: () => 1 } }) });
    await project.deploy(() => Probe("api", {}));
    await project.deploy(async () => {});
    expect(calls).toEqual(["create", "delete"]);
    expect(await project.record("api")).toBeUndefined();
  });
});
