/**
 * A plan is a promise: it says `replace` where deploy replaces (for the
 * replacements a kind declares), and its counts are deploy's counts, with the
 * resources whose action hangs on values known only after deploy counted
 * apart as `undecided`.
 */
import { describe, expect, it } from "vitest";
import { Resource, ResourceError, type Application, type Context, type ResourceOptions, type RunSummary } from "alchemy";
import { alchemy, createWorld, memoryState } from "./world.test-fixture.js";

interface BoxProps {
  name: string;
  size?: number;
  tags?: Record<string, string>;
}
interface Box {
  name: string;
  size: number;
}

let kinds = 0;

/** A kind whose handler logs `phase id`; its output is `{ name, size }`. */
function boxKind(options: ResourceOptions<Box, BoxProps>, calls: string[]) {
  return Resource(`test::Box${++kinds}`, options, async function (this: Context<Box, BoxProps>, id: string, props: BoxProps): Promise<Box> {
    calls.push(`${this.phase} ${id}`);
    if (this.phase === "delete") return this.destroy();
    return { name: props.name, size: props.size ?? 0 };
  });
}

/** A kind that only holds what it is given: `{ uses }` in, `{}` out. */
const User = Resource("test::PlanUser", async function (this: Context<object, { uses: unknown }>): Promise<object> {
  if (this.phase === "delete") return this.destroy();
  return {};
});

async function run(state: ReturnType<typeof memoryState>, phase: "up" | "plan", program: () => Promise<unknown>): Promise<Application> {
  const app = await alchemy("app", state.options({ phase }));
  await program();
  await app.finalize();
  return app;
}

/** What a summary promises: every count but time and failures. */
function counts(summary: RunSummary) {
  const { elapsedMs: _time, failed: _failed, undecided = 0, ...rest } = summary;
  return { ...rest, undecided };
}

const actions = (app: Application) => app.events.filter((e) => e.status !== "start" && e.action !== "noop").map((e) => `${e.action} ${e.fqn.split("/").pop()}`);

describe("a declared replacement (replaceOnChanges)", () => {
  it("is planned as a replace with the changed path and the old instance's delete, and deployed without calling update", async () => {
    const calls: string[] = [];
    const Box = boxKind({ replaceOnChanges: ["name"] }, calls);
    const state = memoryState();
    await run(state, "up", () => Box("box", { name: "a" }));
    calls.length = 0;

    const plan = await run(state, "plan", () => Box("box", { name: "b" }));
    expect(calls).toEqual([]);
    expect(plan.plan.filter((e) => e.action !== "noop")).toMatchObject([
      { fqn: "app/test/box", action: "replace", changes: [{ path: "name", before: "a", after: "b" }] },
      { fqn: "app/test/box", action: "delete", note: "replaced instance" },
    ]);

    const deploy = await run(state, "up", () => Box("box", { name: "b" }));
    expect(calls).toEqual(["create box", "delete box"]);
    expect(actions(deploy)).toEqual(actions(plan));
    expect(counts(deploy.summary)).toEqual(counts(plan.summary));
    expect(counts(plan.summary)).toMatchObject({ replaced: 1, deleted: 1, updated: 0 });
  });

  it("leaves other prop changes to update", async () => {
    const calls: string[] = [];
    const Box = boxKind({ replaceOnChanges: ["name"] }, calls);
    const state = memoryState();
    await run(state, "up", () => Box("box", { name: "a", size: 1 }));
    calls.length = 0;
    const plan = await run(state, "plan", () => Box("box", { name: "a", size: 2 }));
    const deploy = await run(state, "up", () => Box("box", { name: "a", size: 2 }));
    expect(calls).toEqual(["update box"]);
    expect(actions(plan)).toEqual(["update box"]);
    expect(counts(deploy.summary)).toEqual(counts(plan.summary));
  });

  it("matches a path inside a declared one, a value that holds it, and * for any key", async () => {
    const calls: string[] = [];
    const Box = boxKind({ replaceOnChanges: ["tags.*.id"] }, calls);
    const state = memoryState();
    const program = (tags?: Record<string, unknown>) => () => Box("box", { name: "a", tags: tags as Record<string, string> });
    await run(state, "up", program({ kv: { id: "1", label: "x" } }));
    const decisions: string[] = [];
    for (const tags of [{ kv: { id: "1", label: "y" } }, { kv: { id: "2", label: "y" } }, { kv: "gone" }, undefined]) {
      const plan = await run(state, "plan", program(tags));
      decisions.push(plan.plan[0]!.action);
      await run(state, "up", program(tags));
    }
    expect(decisions).toEqual(["update", "replace", "replace", "replace"]);
  });

  it("with deleteBeforeReplace deletes the old instance first, and plan shows only the replace, as deploy reports it", async () => {
    const calls: string[] = [];
    const Box = boxKind({ replaceOnChanges: ["name"], deleteBeforeReplace: true }, calls);
    const state = memoryState();
    await run(state, "up", () => Box("box", { name: "a" }));
    calls.length = 0;
    const plan = await run(state, "plan", () => Box("box", { name: "b" }));
    const deploy = await run(state, "up", () => Box("box", { name: "b" }));
    expect(calls).toEqual(["delete box", "create box"]);
    expect(actions(plan)).toEqual(["replace box"]);
    expect(actions(deploy)).toEqual(["replace box"]);
    expect(counts(deploy.summary)).toEqual(counts(plan.summary));
  });

  it("as a function decides with the recorded props and output in `this`, in plan and in deploy alike", async () => {
    const calls: string[] = [];
    const seen: unknown[] = [];
    const Box = boxKind(
      {
        replaceOnChanges(props) {
          seen.push([this.phase, this.props.name, this.output.name]);
          return props.name.toLowerCase() !== this.props.name.toLowerCase();
        },
      },
      calls,
    );
    const state = memoryState();
    await run(state, "up", () => Box("box", { name: "a" }));
    const decisions: string[][] = [];
    for (const name of ["A", "b"]) {
      calls.length = 0;
      const plan = await run(state, "plan", () => Box("box", { name }));
      const deploy = await run(state, "up", () => Box("box", { name }));
      expect(counts(deploy.summary)).toEqual(counts(plan.summary));
      decisions.push([...actions(plan), ...calls]);
    }
    expect(decisions).toEqual([["update box", "update box"], ["replace box", "delete box", "create box", "delete box"]]);
    expect(seen).toEqual([["update", "a", "a"], ["update", "a", "a"], ["update", "A", "A"], ["update", "A", "A"]]);
  });

  it("is accepted inside the object form too", async () => {
    const calls: string[] = [];
    const Box = Resource("test::ObjectBox", {
      replaceOnChanges: ["name"],
      async create(this: Context<Box, BoxProps>, id: string, props: BoxProps) {
        calls.push(`create ${id}`);
        return { name: props.name, size: 0 };
      },
      async update(id: string, props: BoxProps) {
        calls.push(`update ${id}`);
        return { name: props.name, size: 0 };
      },
      async delete(id: string) {
        calls.push(`delete ${id}`);
      },
    });
    const state = memoryState();
    await run(state, "up", () => Box("box", { name: "a" }));
    const plan = await run(state, "plan", () => Box("box", { name: "b" }));
    await run(state, "up", () => Box("box", { name: "b" }));
    expect(actions(plan)).toEqual(["replace box", "delete box"]);
    expect(calls).toEqual(["create box", "create box", "delete box"]);
  });

  it("fails the plan of the resource, naming it, when its function throws", async () => {
    const Box = boxKind(
      {
        replaceOnChanges() {
          throw new Error("cannot tell");
        },
      },
      [],
    );
    const state = memoryState();
    await run(state, "up", () => Box("box", { name: "a" }));
    const app = await alchemy("app", state.options({ phase: "plan" }));
    const error = await Box("box", { name: "b" }).catch((e: unknown) => e);
    await app.release();
    expect(error).toBeInstanceOf(ResourceError);
    expect(error).toMatchObject({ fqn: "app/test/box", operation: "plan" });
    expect((error as Error).message).toMatch(/replaceOnChanges of test::Box\d+ failed for "app\/test\/box": cannot tell/);
  });

  it("refuses a malformed declaration when the kind is defined", () => {
    expect(() => Resource("test::Bad", { replaceOnChanges: "name" as unknown as string[] }, async () => ({}))).toThrow(/list of prop paths/);
    expect(() => Resource("test::Bad", { replaceOnChanges: [""] }, async () => ({}))).toThrow(/list of prop paths/);
  });
});

describe("a handler's own this.replace()", () => {
  it("is reported as a replace, also when it deletes the old instance first", async () => {
    const world = createWorld();
    const state = memoryState();
    await run(state, "up", () => world.Thing("r", { value: 1, replaceOnChange: "force" }));
    const deploy = await run(state, "up", () => world.Thing("r", { value: 2, replaceOnChange: "force" }));
    expect(actions(deploy)).toEqual(["replace r"]);
    expect(deploy.summary).toMatchObject({ replaced: 1, updated: 0 });
  });
});

describe("plan counts", () => {
  it("count a dependent whose props hold an output known only after deploy as undecided, not as an update", async () => {
    const Box = boxKind({}, []);
    const state = memoryState();
    const program = (size: number) => async () => {
      const box = await Box("box", { name: "a", size });
      await User("user", { uses: box.name });
    };
    await run(state, "up", program(1));
    const plan = await run(state, "plan", program(2));
    expect(plan.plan.find((e) => e.fqn === "app/test/user")).toMatchObject({ action: "update", alternatives: ["noop"] });
    expect(counts(plan.summary)).toEqual({ created: 0, updated: 1, replaced: 0, deleted: 0, unchanged: 0, undecided: 1 });
    const deploy = await run(state, "up", program(2));
    // The box's name did not change: deploy leaves the user alone, as the plan allowed.
    expect(counts(deploy.summary)).toEqual({ created: 0, updated: 1, replaced: 0, deleted: 0, unchanged: 1, undecided: 0 });
  });

  it("count a dependent exactly when the kind it depends on gives its plannedOutput", async () => {
    const calls: string[] = [];
    const Box = boxKind({ replaceOnChanges: ["name"], plannedOutput: (id, props) => ({ name: props.name, size: props.size ?? 0 }) }, calls);
    const state = memoryState();
    const program = (name: string, size: number) => async () => {
      const box = await Box("box", { name, size });
      await User("by-name", { uses: box.name });
      await User("by-size", { uses: `${box.size} bytes` });
    };
    await run(state, "up", program("a", 1));
    for (const [name, size, expected] of [
      ["a", 2, ["update box", "update by-size"]],
      ["b", 2, ["replace box", "delete box", "update by-name"]],
    ] as const) {
      calls.length = 0;
      const plan = await run(state, "plan", program(name, size));
      expect(calls).toEqual([]);
      expect(actions(plan)).toEqual(expected);
      expect(plan.summary.undecided ?? 0).toBe(0);
      const deploy = await run(state, "up", program(name, size));
      expect(counts(deploy.summary)).toEqual(counts(plan.summary));
      expect(actions(deploy).sort()).toEqual([...expected].sort());
    }
  });

  it("leave a declared replacement undecided when the declared prop is known only after deploy", async () => {
    const Source = boxKind({}, []);
    const Box = boxKind({ replaceOnChanges: ["name"] }, []);
    const state = memoryState();
    const program = (size: number) => async () => {
      const source = await Source("source", { name: "n", size });
      await Box("box", { name: source.name });
    };
    await run(state, "up", program(1));
    const plan = await run(state, "plan", program(2));
    expect(plan.plan.find((e) => e.fqn === "app/test/box")).toMatchObject({ action: "replace", alternatives: ["update", "noop"] });
    expect(counts(plan.summary)).toMatchObject({ updated: 1, replaced: 0, deleted: 0, undecided: 1 });
  });

  it("take a function's replacement decision when it read no unknown value, whatever else is unknown", async () => {
    const Source = boxKind({}, []);
    const reads: string[] = [];
    const Box = boxKind(
      {
        replaceOnChanges(props) {
          reads.push(props.name);
          return props.name !== this.props.name;
        },
        plannedOutput: (id, props) => ({ name: props.name, size: (props.tags?.from ?? "").length }),
      },
      [],
    );
    const state = memoryState();
    const program = (name: string, size: number) => async () => {
      const source = await Source("source", { name: "n", size });
      const box = await Box("box", { name, tags: { from: source.name } });
      await User("by-name", { uses: box.name });
    };
    await run(state, "up", program("a", 1));
    const same = await run(state, "plan", program("a", 2));
    expect(same.plan.find((e) => e.fqn === "app/test/box")).toMatchObject({ action: "update", alternatives: ["noop"] });
    const renamed = await run(state, "plan", program("b", 2));
    expect(renamed.plan.find((e) => e.fqn === "app/test/box")).toMatchObject({ action: "replace" });
    expect(renamed.plan.find((e) => e.fqn === "app/test/box")!.alternatives).toBeUndefined();
    expect(reads).toEqual(["a", "b"]);
    // Its plannedOutput read the unknown tags: the output is unknown, so the user may change.
    expect(renamed.plan.find((e) => e.fqn === "app/test/by-name")).toMatchObject({ action: "update", alternatives: ["noop"] });
  });

  it("see a string made from an unknown output as unknown", async () => {
    const Box = boxKind({}, []);
    const state = memoryState();
    const program = (size: number) => async () => {
      const box = await Box("box", { name: "a", size });
      await User("user", { uses: `${box.name}/index.html` });
    };
    await run(state, "up", program(1));
    const plan = await run(state, "plan", program(2));
    expect(plan.plan.find((e) => e.fqn === "app/test/user")).toMatchObject({ action: "update", alternatives: ["noop"], unknown: true });
  });
});
