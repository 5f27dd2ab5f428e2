import { describe, expect, it } from "vitest";
import { MemoryStateStore } from "../state/memory/memory-state-store.js";
import { DestroyError } from "./errors.js";
import type { DestroyStrategy } from "./options.js";
import { alchemy, createWorld, memoryState } from "./world.test-fixture.js";

/**
 * A stage with dependencies within and across scopes:
 *   net <- db <- api <- web (in another scope), cache <- api, and a resource
 *   scope (app holds children).
 */
async function deployGraph(world: ReturnType<typeof createWorld>, state: ReturnType<typeof memoryState>, extra = {}) {
  const app = await alchemy("app", state.options(extra));
  const net = await world.Thing("net", {});
  const { api } = await alchemy.run("backend", async () => {
    const db = await world.Thing("db", { uses: [net] });
    const cache = await world.Thing("cache", { uses: [net] });
    const api = await world.Thing("api", { uses: [db, cache], children: ["route-1", "route-2"] });
    return { api };
  });
  await alchemy.run("frontend", async () => {
    await world.Thing("web", { uses: [api] });
    await Promise.all(Array.from({ length: 20 }, (_, i) => world.Thing(`asset-${i}`, { uses: [net] })));
  });
  await app.finalize();
}

describe.each<DestroyStrategy>(["sequential", "parallel"])("destroying a stage (%s)", (destroyStrategy) => {
  it("never deletes a resource while something that depends on it exists", async () => {
    const world = createWorld();
    const state = memoryState();
    await deployGraph(world, state);
    state.log.length = 0;
    const app = await alchemy("app", state.options({ phase: "destroy", destroyStrategy, concurrency: 4 }));
    await app.finalize();
    expect(world.violations).toEqual([]);
    expect(world.live.size).toBe(0);
    expect(world.count("delete")).toBe(27);
    if (destroyStrategy === "sequential") expect(world.deletes.maxInFlight).toBe(1);
    else {
      expect(world.deletes.maxInFlight).toBeGreaterThan(1);
      expect(world.deletes.maxInFlight).toBeLessThanOrEqual(4);
    }
    // Each delete is recorded ("deleting") before the handler runs, then the record is removed.
    expect(state.writes().map((c) => c.method).sort()).toEqual(Array.from({ length: 27 }, () => ["set", "delete"]).flat().sort());
  });

  it("keeps a resource whose delete failed, and everything it depends on, and reports it", async () => {
    const world = createWorld();
    const state = memoryState();
    await deployGraph(world, state);
    world.failOn("delete", "app/test/backend/db", "database is busy");
    const app = await alchemy("app", state.options({ phase: "destroy", destroyStrategy }));
    const error = await app.finalize().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DestroyError);
    const failures = (error as DestroyError).failures.map((f) => f.fqn).sort();
    expect(failures).toEqual(["app/test/backend/db", "app/test/net"]);
    expect((error as DestroyError).message).toMatch(/app\/test\/backend\/db: Failed|database is busy/);
    expect([...world.live.keys()].sort()).toEqual(["app/test/backend/db", "app/test/net"]);
    expect(world.violations).toEqual([]);
    // The failed delete stays marked; what was never attempted is as it was.
    const statuses = async (chain: string[], id: string) => (await new MemoryStateStore({ chain }, { tree: state.tree }).get(id))?.status;
    expect(await statuses(["app", "test", "backend"], "db")).toBe("deleting");
    expect(await statuses(["app", "test"], "net")).toBe("created");

    // The next run, with the cause fixed, finishes the job.
    world.heal();
    const again = await alchemy("app", state.options({ phase: "destroy", destroyStrategy }));
    await again.finalize();
    expect(world.live.size).toBe(0);
  });
});

describe("orphan clean-up across scopes", () => {
  it("waits for the stage to finalize before deleting an orphan still used from a later block", async () => {
    const world = createWorld();
    const state = memoryState();
    let app = await alchemy("app", state.options());
    const shared = await alchemy.run("backend", async () => world.Thing("shared", {}));
    await alchemy.run("frontend", async () => void (await world.Thing("site", { uses: [shared] })));
    await app.finalize();

    // "shared" is removed from backend; frontend's site stops using it, but only later in the program.
    app = await alchemy("app", state.options());
    await alchemy.run("backend", async () => {});
    expect(world.live.has("app/test/backend/shared")).toBe(true);
    await alchemy.run("frontend", async () => void (await world.Thing("site", {})));
    await app.finalize();
    expect(world.live.has("app/test/backend/shared")).toBe(false);
    expect(world.violations).toEqual([]);
  });

  it("deletes a removed block's resources after the resources that used them", async () => {
    const world = createWorld();
    const state = memoryState();
    await deployGraph(world, state);
    const app = await alchemy("app", state.options({ destroyStrategy: "parallel", allowDeletes: true }));
    await world.Thing("net", {});
    await app.finalize(); // backend and frontend blocks no longer run: most of the stage goes
    expect(world.violations).toEqual([]);
    expect([...world.live.keys()]).toEqual(["app/test/net"]);
  });
});

describe("alchemy.destroy", () => {
  it("destroys a nested scope in dependency order and leaves the rest", async () => {
    const world = createWorld();
    const state = memoryState();
    const app = await alchemy("app", state.options());
    await world.Thing("outside", {});
    await alchemy.run("temp", async (scope) => {
      const a = await world.Thing("a", {});
      await world.Thing("b", { uses: [a] });
      await alchemy.destroy(scope);
    });
    await app.finalize();
    expect(world.violations).toEqual([]);
    expect([...world.live.keys()]).toEqual(["app/test/outside"]);
  });

  it("refuses to destroy a resource that another resource still uses", async () => {
    const world = createWorld();
    const state = memoryState();
    const app = await alchemy("app", state.options());
    const a = await world.Thing("a", {});
    await world.Thing("b", { uses: [a] });
    await expect(alchemy.destroy(a)).rejects.toThrow(/app\/test\/a: still used by app\/test\/b/);
    expect(world.live.has("app/test/a")).toBe(true);
    await app.finalize();
  });
});
