import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryStateStore } from "../state/memory/memory-state-store.js";
import type { State } from "../state/state-store.js";
import { DestroyError } from "./errors.js";
import { alchemy, createWorld, memoryState } from "./world.test-fixture.js";

/**
 * `deps` as found in state, not as the engine wrote them (a hand edit, an
 * import, a forgotten record): a dep naming no record, and deps that form a
 * cycle.
 *
 * The stage: base <- net <- db <- api <- web, and solo on its own.
 */
function setup() {
  const world = createWorld();
  const state = memoryState();
  const printed = vi.spyOn(console, "error").mockImplementation(() => {});
  const warnings = {
    /** What the runs warned about (`! ` stripped), since the last `clear()`. */
    get all(): string[] {
      return printed.mock.calls.map((c) => String(c[0]).replace(/^! /, ""));
    },
    clear: () => printed.mockClear(),
  };
  const run = async (extra: Parameters<typeof state.options>[0] = {}, declare = true) => {
    const app = await alchemy("app", state.options(extra));
    if (declare) {
      const base = await world.Thing("base", {});
      const net = await world.Thing("net", { uses: [base] });
      const db = await world.Thing("db", { uses: [net] });
      const api = await world.Thing("api", { uses: [db] });
      await world.Thing("web", { uses: [api] });
      await world.Thing("solo", {});
    }
    return app.finalize().then(() => undefined, (e: unknown) => e);
  };
  const store = () => new MemoryStateStore({ chain: ["app", "test"] }, { tree: state.tree });
  const record = async (id: string) => (await store().get(id))!;
  const edit = async (id: string, change: (s: State) => Partial<State>) => {
    const before = await record(id);
    await store().set(id, { ...before, ...change(before) });
  };
  return { world, state, warnings, run, record, edit };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a dep that names no record", () => {
  it("is reported by a destroy, naming both fqns, and ignored for the order", async () => {
    const { world, warnings, run, edit } = setup();
    expect(await run()).toBeUndefined();
    await edit("db", (s) => ({ deps: [...s.deps, "app/test/ghost"] }));
    await edit("solo", () => ({ replaced: [{ props: {}, output: {}, deps: ["app/test/old-ghost"] }] }));
    expect(await run({ phase: "destroy" }, false)).toBeUndefined();
    expect(warnings.all.sort()).toEqual([
      `The record "app/test/db" names "app/test/ghost" in its deps, but stage "app/test" has no record "app/test/ghost"; that dependency is ignored.`,
      `The record "app/test/solo" names "app/test/old-ghost" in the deps of its replaced instance 0, but stage "app/test" has no record "app/test/old-ghost"; that dependency is ignored.`,
    ]);
    expect(world.live.size).toBe(0);
    expect(world.violations).toEqual([]);
  });

  it("is dropped from the record by the next deploy, which says so once, also when the resource is unchanged", async () => {
    const { state, warnings, run, record, edit } = setup();
    expect(await run()).toBeUndefined();
    await edit("db", (s) => ({ deps: ["app/test/ghost", ...s.deps] }));
    const before = await record("db");
    state.log.length = 0;

    expect(await run()).toBeUndefined();
    expect(warnings.all).toEqual([
      `The record "app/test/db" names "app/test/ghost" in its deps, but stage "app/test" has no record "app/test/ghost"; the deploy dropped it from the record.`,
    ]);
    expect(await record("db")).toEqual({ ...before, deps: ["app/test/net"], seq: before.seq + 1 });
    expect(state.writes()).toEqual([{ method: "set", scope: "app/test", id: "db" }]);

    warnings.clear();
    state.log.length = 0;
    expect(await run()).toBeUndefined();
    expect(warnings.all).toEqual([]);
    expect(state.writes()).toEqual([]);
  });
});

describe("deps that form a cycle", () => {
  it("fail a destroy with an error naming the cycle; its members and what they need are kept as they were, the rest is deleted", async () => {
    const { world, run, record, edit } = setup();
    expect(await run()).toBeUndefined();
    await edit("net", (s) => ({ deps: [...s.deps, "app/test/api"] }));
    world.reset();

    const error = await run({ phase: "destroy" }, false);
    expect(error).toBeInstanceOf(DestroyError);
    const cycle = "app/test/api -> app/test/db -> app/test/net -> app/test/api";
    const failures = Object.fromEntries((error as DestroyError).failures.map((f) => [f.fqn, f.error.message]));
    expect(Object.keys(failures).sort()).toEqual(["app/test/api", "app/test/base", "app/test/db", "app/test/net"]);
    for (const fqn of ["app/test/api", "app/test/db", "app/test/net"]) {
      expect(failures[fqn]).toBe(
        `not deleted: its deps form a cycle, ${cycle} (each is deleted before the next), so none of them can go first. ` +
          'A program never records a cycle: fix the "deps" of one of these records in the state store, ' +
          "or forget one with `alchemy state rm <fqn>` and delete its resource yourself.",
      );
    }
    expect(failures["app/test/base"]).toBe(`kept because app/test/net, which is in the dependency cycle ${cycle}, still needs it`);
    expect([...world.live.keys()].sort()).toEqual(["app/test/api", "app/test/base", "app/test/db", "app/test/net"]);
    expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn).sort()).toEqual(["app/test/solo", "app/test/web"]);
    for (const id of ["api", "db", "net", "base"]) expect((await record(id)).status, id).toBe("created");
  });

  it("fail the orphan clean-up of a deploy with the same error, before any orphan in the cycle is deleted", async () => {
    const { world, state, run, edit } = setup();
    expect(await run()).toBeUndefined();
    await edit("db", (s) => ({ deps: [...s.deps, "app/test/api"] }));
    world.reset();

    // A program that declares only base, net and solo: db, api and web are orphans.
    const app = await alchemy("app", state.options());
    const base = await world.Thing("base", {});
    await world.Thing("net", { uses: [base] });
    await world.Thing("solo", {});
    const error = await app.finalize().then(() => undefined, (e: unknown) => e);

    expect(error).toBeInstanceOf(DestroyError);
    expect((error as Error).message).toContain("its deps form a cycle, app/test/api -> app/test/db -> app/test/api (each is deleted before the next)");
    expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn)).toEqual(["app/test/web"]);
  });
});
