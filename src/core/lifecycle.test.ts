import { describe, expect, it } from "vitest";
import { MemoryStateStore } from "../state/memory/memory-state-store.js";
import type { State } from "../state/state-store.js";
import { Resource, type Context } from "alchemy";
import { alchemy, createWorld, memoryState } from "./world.test-fixture.js";

async function record(tree: ReturnType<typeof memoryState>["tree"], chain: string[], id: string): Promise<State | undefined> {
  return new MemoryStateStore({ chain }, { tree }).get(id);
}

describe("resource lifecycle", () => {
  it("creates each declared resource once and records it as created with its deps", async () => {
    const world = createWorld();
    const state = memoryState();
    const app = await alchemy("app", state.options());
    const a = await world.Thing("a", { value: 1 });
    await world.Thing("b", { value: 2, uses: [a] });
    await app.finalize();
    expect(world.count("create")).toBe(2);
    const b = await record(state.tree, ["app", "test"], "b");
    expect(b).toMatchObject({ status: "created", kind: world.kind, id: "b", fqn: "app/test/b", deps: ["app/test/a"] });
    expect(b!.props).toEqual({ value: 2, uses: [{ fqn: "app/test/a", value: 1, generation: 1 }] });
  });

  it("skips a resource whose props are unchanged without calling its handler", async () => {
    const world = createWorld();
    const state = memoryState();
    for (let run = 0; run < 2; run++) {
      const app = await alchemy("app", state.options());
      const a = await world.Thing("a", { value: 1 });
      await world.Thing("b", { uses: [a] });
      await app.finalize();
    }
    expect(world.calls.map((c) => c.phase)).toEqual(["create", "create"]);
  });

  it("updates exactly the resource whose prop changed, and its dependents only if its output changed", async () => {
    const world = createWorld();
    const state = memoryState();
    for (const value of [1, 2]) {
      const app = await alchemy("app", state.options());
      await world.Thing("a", { value: "same" });
      const b = await world.Thing("b", { value });
      await world.Thing("c", { uses: [b] });
      await app.finalize();
    }
    const updates = world.calls.filter((c) => c.phase === "update").map((c) => c.fqn);
    // b's output carries its value, so c (which uses b) sees changed props too.
    expect(updates).toEqual(["app/test/b", "app/test/c"]);
    expect((await record(state.tree, ["app", "test"], "b"))!.status).toBe("updated");
  });

  it("deletes a resource at finalize once it is no longer declared", async () => {
    const world = createWorld();
    const state = memoryState();
    let app = await alchemy("app", state.options());
    await world.Thing("keep", {});
    await world.Thing("drop", {});
    await app.finalize();
    app = await alchemy("app", state.options());
    await world.Thing("keep", {});
    await app.finalize();
    expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn)).toEqual(["app/test/drop"]);
    expect(await record(state.tree, ["app", "test"], "drop")).toBeUndefined();
    expect([...world.live.keys()]).toEqual(["app/test/keep"]);
  });

  it("creates a replacement first and deletes the old instance at finalize", async () => {
    const world = createWorld();
    const state = memoryState();
    for (const value of ["v1", "v2"]) {
      const app = await alchemy("app", state.options());
      await world.Thing("r", { value, replaceOnChange: true });
      if (value === "v2") {
        const rec = await record(state.tree, ["app", "test"], "r");
        expect(rec!.replaced).toHaveLength(1);
      }
      await app.finalize();
    }
    expect(world.calls.map((c) => c.phase)).toEqual(["create", "update", "create", "delete"]);
    const rec = await record(state.tree, ["app", "test"], "r");
    expect(rec!.replaced).toBeUndefined();
    expect(rec!.output).toMatchObject({ value: "v2", generation: 2 });
    expect(world.live.get("app/test/r")?.generation).toBe(2);
  });

  it("deletes the old instance before creating the new one on a forced replace", async () => {
    const world = createWorld();
    const state = memoryState();
    for (const value of ["v1", "v2"]) {
      const app = await alchemy("app", state.options());
      await world.Thing("r", { value, replaceOnChange: "force" });
      await app.finalize();
    }
    expect(world.calls.map((c) => c.phase)).toEqual(["create", "update", "delete", "create"]);
    expect((await record(state.tree, ["app", "test"], "r"))!.replaced).toBeUndefined();
  });

  it("finds dependencies nested deep inside props", async () => {
    const world = createWorld();
    const state = memoryState();
    const app = await alchemy("app", state.options());
    const a = await world.Thing("a", {});
    const b = await world.Thing("b", {});
    await world.Thing("c", { value: { deep: [{ inner: a }], other: { b } } as unknown });
    await app.finalize();
    expect((await record(state.tree, ["app", "test"], "c"))!.deps).toEqual(["app/test/a", "app/test/b"]);
  });

  it("reports a record left creating by a crash and creates it again through the handler", async () => {
    const world = createWorld();
    const state = memoryState();
    await new MemoryStateStore({ chain: ["app", "test"] }, { tree: state.tree }).set("x", {
      status: "creating",
      kind: world.kind,
      id: "x",
      fqn: "app/test/x",
      seq: 1,
      data: {},
      props: { value: 1 },
      output: undefined,
      deps: [],
    });
    const notes: string[] = [];
    const app = await alchemy("app", state.options({ onEvent: (e) => e.note && notes.push(`${e.fqn}: ${e.note}`) }));
    await world.Thing("x", { value: 1 });
    await app.finalize();
    expect(notes).toEqual([expect.stringMatching(/^app\/test\/x: resuming: the record was left "creating"/)]);
    expect(world.calls).toEqual([{ phase: "create", fqn: "app/test/x" }]);
    expect((await record(state.tree, ["app", "test"], "x"))!.status).toBe("created");
  });

  it("leaves a failed create recorded as creating and deletes nothing at finalize", async () => {
    const world = createWorld();
    const state = memoryState();
    let app = await alchemy("app", state.options());
    await world.Thing("old", {});
    await app.finalize();

    world.failOn("create", "app/test/new");
    app = await alchemy("app", state.options());
    await expect(world.Thing("new", {})).rejects.toThrow(/Failed to create "app\/test\/new": injected create failure/);
    await app.finalize();
    expect(world.count("delete")).toBe(0);
    expect((await record(state.tree, ["app", "test"], "new"))!.status).toBe("creating");
    expect(await record(state.tree, ["app", "test"], "old")).toBeDefined();
  });

  it("puts resources declared inside a handler in that resource's scope and destroys them before it", async () => {
    const world = createWorld();
    const state = memoryState();
    let app = await alchemy("app", state.options());
    await world.Thing("parent", { children: ["c1", "c2"] });
    await app.finalize();
    expect(await record(state.tree, ["app", "test", "parent"], "c1")).toMatchObject({ fqn: "app/test/parent/c1" });

    app = await alchemy("app", state.options({ phase: "destroy" }));
    await app.finalize();
    const deletes = world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn);
    expect(deletes.indexOf("app/test/parent")).toBe(2);
    expect(world.violations).toEqual([]);
    expect(world.live.size).toBe(0);
  });

  it("deletes children a handler no longer declares when the resource updates", async () => {
    const world = createWorld();
    const state = memoryState();
    for (const children of [["c1", "c2"], ["c1"]]) {
      const app = await alchemy("app", state.options());
      await world.Thing("parent", { value: children.length, children });
      await app.finalize();
    }
    expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn)).toEqual(["app/test/parent/c2"]);
    expect(await record(state.tree, ["app", "test", "parent"], "c1")).toBeDefined();
  });
});

describe("phases", () => {
  it("read returns recorded outputs, calls no handler, and fails on a resource never deployed", async () => {
    const world = createWorld();
    const state = memoryState();
    let app = await alchemy("app", state.options());
    await world.Thing("a", { value: 7 });
    await app.finalize();
    world.reset();

    app = await alchemy("app", state.options({ phase: "read" }));
    expect(await world.Thing("a", { value: "ignored" })).toMatchObject({ value: 7 });
    await expect(world.Thing("missing", {})).rejects.toThrow(/No recorded output for "app\/test\/missing".*Deploy first/);
    await app.finalize();
    expect(world.calls).toEqual([]);
  });

  it("plan reports every decision without calling handlers or writing state", async () => {
    const world = createWorld();
    const state = memoryState();
    let app = await alchemy("app", state.options());
    await world.Thing("same", { value: 1 });
    await world.Thing("changed", { value: 1 });
    await world.Thing("removed", {});
    await app.finalize();
    world.reset();
    const writesBefore = state.writes().length;

    app = await alchemy("app", state.options({ phase: "plan" }));
    await world.Thing("same", { value: 1 });
    await world.Thing("changed", { value: 2 });
    const added = await world.Thing("added", {});
    await world.Thing("uses-added", { uses: [added] });
    await app.finalize();

    expect(world.calls).toEqual([]);
    expect(state.writes().length).toBe(writesBefore);
    const plan = Object.fromEntries(app.plan.map((e) => [e.fqn.split("/").pop(), e.action]));
    expect(plan).toEqual({ same: "noop", changed: "update", added: "create", "uses-added": "create", removed: "delete" });
    expect(app.plan.find((e) => e.fqn.endsWith("/changed"))!.changes).toEqual([{ path: "value", before: 1, after: 2 }]);
    expect(String(added.value)).toBe("(known after apply: app/test/added.value)");
    expect(app.plan.find((e) => e.fqn.endsWith("/uses-added"))!.unknown).toBe(true);
  });
});

describe("the object form of Resource", () => {
  it("calls create, update and delete as methods, and read in the read phase", async () => {
    const calls: string[] = [];
    const Counter = Resource("test::ObjectForm", {
      async create(this: Context<{ n: number }, { n: number }>, id: string, props: { n: number }) {
        calls.push(`create ${this.fqn} ${props.n}`);
        return { n: props.n };
      },
      async update(id: string, props: { n: number }) {
        calls.push(`update ${id} ${this.props.n}->${props.n}`);
        return { n: props.n };
      },
      async delete(id: string) {
        calls.push(`delete ${id} ${this.output.n}`);
      },
      async read(id: string) {
        calls.push(`read ${id}`);
        return { n: this.output.n * 100 };
      },
    });
    const state = memoryState();
    for (const n of [1, 2]) {
      const app = await alchemy("app", state.options());
      await Counter("c", { n });
      await app.finalize();
    }
    const reader = await alchemy("app", state.options({ phase: "read" }));
    expect(await Counter("c", { n: 2 })).toEqual({ n: 200 });
    await reader.finalize();
    await (await alchemy("app", state.options({ phase: "destroy" }))).finalize();
    expect(calls).toEqual(["create app/test/c 1", "update c 1->2", "read c", "delete c 2"]);
  });
});
