import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { MassDeletionError, ProtectedResourceError, Resource, type AlchemyOptions, type Context, type State } from "alchemy";
import { parseStoreUrl, storeFactory } from "../state/store-url.js";
import { persistentStoreUrls } from "../state/store-urls.test-fixture.js";
import { alchemy, createWorld, tempDir } from "./world.test-fixture.js";

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe.each(persistentStoreUrls("alchemy_deletion_options", cleanups))("protect and retain, on %s", (_name, url) => {
  let options: (extra?: AlchemyOptions) => AlchemyOptions;
  let world: ReturnType<typeof createWorld>;

  beforeEach(async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const factory = storeFactory(parseStoreUrl(await url(), dir.dir));
    options = (extra = {}) => ({ stage: "test", quiet: true, rootDir: dir.dir, stateStore: factory, ...extra });
    world = createWorld();
  });

  /** Runs `program` as one deploy (or the given phase); resolves to the finalize error, if any. */
  async function run(program: () => Promise<unknown>, extra: AlchemyOptions = {}): Promise<unknown> {
    const app = await alchemy("app", options(extra));
    try {
      await program();
    } catch (error) {
      await app.release();
      return error;
    }
    return app.finalize().then(() => undefined, (error: unknown) => error);
  }

  /** The stage's records, by fqn, read through a read-phase run. */
  async function records(): Promise<Map<string, State>> {
    const app = await alchemy("app", options({ phase: "read" }));
    const found = new Map<string, State>();
    const walk = async (scope: typeof app.stage) => {
      for (const state of (await scope.records()).values()) found.set(state.fqn, state);
      for (const name of await scope.storedChildren()) await walk(scope.existingChild(name, (await scope.records()).has(name)));
    };
    await walk(app.stage);
    await app.finalize();
    return found;
  }

  it("fails an orphan clean-up before deleting anything when one orphan is protected, naming it and the way out", async () => {
    await run(async () => {
      await world.Thing("keep", {});
      await world.Thing("db", {}, { protect: true });
      await world.Thing("cache", {});
    });
    const error = await run(async () => world.Thing("keep", {}));
    expect(error).toBeInstanceOf(ProtectedResourceError);
    expect((error as Error).message).toContain("app/test/db");
    expect((error as Error).message).toMatch(/protect: false.*alchemy state unprotect <fqn>/s);
    expect([...world.live.keys()].sort()).toEqual(["app/test/cache", "app/test/db", "app/test/keep"]);
    expect(world.count("delete")).toBe(0);
    expect([...(await records()).keys()].sort()).toEqual(["app/test/cache", "app/test/db", "app/test/keep"]);

    // Deployed once with protect: false, the resource may go.
    expect(await run(async () => {
      await world.Thing("keep", {});
      await world.Thing("db", {}, { protect: false });
    })).toBeUndefined();
    expect((await records()).get("app/test/db")?.protect).toBeUndefined();
    expect(await run(async () => world.Thing("keep", {}))).toBeUndefined();
    expect([...world.live.keys()]).toEqual(["app/test/keep"]);
  });

  it("refuses to destroy a stage that holds a protected resource, deleting nothing", async () => {
    await run(async () => {
      await world.Thing("plain", {});
      await alchemy.run("data", { protect: true }, async () => world.Thing("db", {}));
    });
    const error = await run(async () => {
      await world.Thing("plain", {});
      await alchemy.run("data", async () => world.Thing("db", {}));
    }, { phase: "destroy" });
    expect(error).toBeInstanceOf(ProtectedResourceError);
    expect((error as ProtectedResourceError).fqns).toEqual(["app/test/data/db"]);
    expect(world.count("delete")).toBe(0);
    expect((await records()).size).toBe(2);
  });

  it("refuses alchemy.destroy of a protected resource, and of a scope holding one", async () => {
    let caught: unknown[] = [];
    await run(async () => {
      const db = await world.Thing("db", {}, { protect: true });
      caught.push(await alchemy.destroy(db).catch((e: unknown) => e));
    });
    expect(caught[0]).toBeInstanceOf(ProtectedResourceError);
    caught = [];
    await run(async () => {
      await world.Thing("db", {}, { protect: true });
      await alchemy.run("inner", async (scope) => {
        await world.Thing("x", {}, { protect: true });
        caught.push(await alchemy.destroy(scope).catch((e: unknown) => e));
      });
    });
    expect(caught[0]).toBeInstanceOf(ProtectedResourceError);
    expect(world.count("delete")).toBe(0);
  });

  it("refuses to replace a protected resource, whether the handler or replaceOnChanges asks, and leaves its record as it was", async () => {
    await run(async () => world.Thing("db", { value: 1, replaceOnChange: true }, { protect: true }));
    const before = (await records()).get("app/test/db")!;
    const error = await run(async () => world.Thing("db", { value: 2, replaceOnChange: true }, { protect: true }));
    expect(error).toBeInstanceOf(ProtectedResourceError);
    expect((error as Error).message).toMatch(/would replace a protected resource.*app\/test\/db/s);
    const after = (await records()).get("app/test/db")!;
    expect({ status: after.status, props: after.props, output: after.output, replaced: after.replaced }).toEqual({
      status: before.status, props: before.props, output: before.output, replaced: before.replaced,
    });
    expect(world.count("create")).toBe(1);

    const Named = Resource("test::Named", { replaceOnChanges: ["name"] }, async function (this: Context<{ name: string }, { name: string }>, _id: string, props: { name: string }) {
      if (this.phase === "delete") return this.destroy();
      return { name: props.name };
    });
    const withDb = (name: string, protect: boolean) => async () => {
      await world.Thing("db", { value: 1, replaceOnChange: true }, { protect: true });
      await Named("n", { name }, { protect });
    };
    await run(withDb("a", true));
    const declared = await run(withDb("b", true));
    expect(declared).toBeInstanceOf(ProtectedResourceError);
    expect((await records()).get("app/test/n")?.output).toEqual({ name: "a" });
    // With protect: false in the same deploy, the replacement goes ahead.
    expect(await run(withDb("b", false))).toBeUndefined();
    expect((await records()).get("app/test/n")?.output).toEqual({ name: "b" });
  });

  it("forgets a retained resource that leaves the program without calling its delete, and reports it retained", async () => {
    await run(async () => {
      await world.Thing("keep", {});
      await world.Thing("bucket", {}, { retain: true });
    });
    const app = await alchemy("app", options());
    await world.Thing("keep", {});
    await app.finalize();
    expect(app.summary).toMatchObject({ deleted: 0, retained: 1 });
    expect(app.events.find((e) => e.fqn === "app/test/bucket")).toMatchObject({ action: "delete", status: "done", retain: true, note: "not deleted" });
    expect(world.count("delete")).toBe(0);
    expect(world.live.has("app/test/bucket")).toBe(true);
    expect([...(await records()).keys()]).toEqual(["app/test/keep"]);
  });

  it("forgets retained resources when the stage is destroyed, and deletes the rest", async () => {
    await run(async () => {
      await world.Thing("plain", {});
      await alchemy.run("data", { retain: true }, async () => world.Thing("db", { children: ["table"] }));
    });
    expect((await records()).get("app/test/data/db/table")?.retain).toBe(true);
    expect(await run(async () => {}, { phase: "destroy" })).toBeUndefined();
    expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn)).toEqual(["app/test/plain"]);
    expect((await records()).size).toBe(0);
    expect([...world.live.keys()].sort()).toEqual(["app/test/data/db", "app/test/data/db/table"]);
  });

  it("keeps the old instance of a retained resource that is replaced", async () => {
    await run(async () => world.Thing("db", { value: 1, replaceOnChange: true }, { retain: true }));
    expect(await run(async () => world.Thing("db", { value: 2, replaceOnChange: true }, { retain: true }))).toBeUndefined();
    expect(world.count("delete")).toBe(0);
    expect((await records()).get("app/test/db")?.replaced).toBeUndefined();
  });

  it("records options changed on a no-op deploy without calling the handler, and honours them when the resource is removed", async () => {
    await run(async () => {
      await world.Thing("rules", {});
      await world.Thing("waf", {});
    });
    world.reset();
    const app = await alchemy("app", options());
    await world.Thing("rules", {}, { retain: true });
    await world.Thing("waf", {}, { protect: true });
    await app.finalize();
    expect(world.calls).toEqual([]);
    expect(app.events.filter((e) => e.recorded).map((e) => [e.fqn, e.recorded])).toEqual([
      ["app/test/rules", ["retain: false -> true"]],
      ["app/test/waf", ["protect: false -> true"]],
    ]);
    const recorded = await records();
    expect(recorded.get("app/test/rules")?.retain).toBe(true);
    expect(recorded.get("app/test/waf")?.protect).toBe(true);

    const error = await run(async () => world.Thing("rules", {}, { retain: true }));
    expect(error).toBeInstanceOf(ProtectedResourceError);
    expect(await run(async () => world.Thing("waf", {}, { protect: true }))).toBeUndefined();
    expect(world.count("delete")).toBe(0);
    expect([...(await records()).keys()]).toEqual(["app/test/waf"]);
  });

  it("lets a resource's own option win over its scope's, and gives the resources a handler declares the resource's options", async () => {
    await run(async () => {
      await alchemy.run("data", { protect: true }, async () => {
        await world.Thing("guarded", { children: ["child"] });
        await world.Thing("free", {}, { protect: false });
      });
    });
    const recorded = await records();
    expect(recorded.get("app/test/data/guarded")?.protect).toBe(true);
    expect(recorded.get("app/test/data/guarded/child")?.protect).toBe(true);
    expect(recorded.get("app/test/data/free")?.protect).toBeUndefined();
  });

  it("stops the orphan clean-up of a resource's own scope when a resource its handler no longer declares is protected", async () => {
    await run(async () => world.Thing("p", { value: 1, children: ["c1", "c2"] }, { protect: true }));
    const error = await run(async () => world.Thing("p", { value: 2, children: ["c1"] }, { protect: true }));
    expect(error).toBeInstanceOf(ProtectedResourceError);
    expect((error as ProtectedResourceError).fqns).toEqual(["app/test/p/c2"]);
    expect(world.count("delete")).toBe(0);
    expect((await records()).has("app/test/p/c2")).toBe(true);
  });

  it("stops a deploy whose program skipped a block because an environment variable is missing, deleting nothing", async () => {
    const program = (env: Record<string, string | undefined>) => async () => {
      await world.Thing("dns", {});
      await world.Thing("cdn", {});
      if (env.DATABASE_REGION) {
        await alchemy.run("database", async () => {
          for (const id of ["primary", "replica-1", "replica-2", "backup", "users", "orders"]) await world.Thing(id, {});
        });
      }
    };
    expect(await run(program({ DATABASE_REGION: "eu" }))).toBeUndefined();
    const error = await run(program({}));
    expect(error).toBeInstanceOf(MassDeletionError);
    expect((error as Error).message).toMatch(/would delete 6 of its 8 resources \(more than maxDeletes 50%\)/);
    expect((error as Error).message).toContain("app/test/database/primary");
    expect((error as Error).message).toMatch(/--allow-deletes/);
    expect(world.count("delete")).toBe(0);
    expect((await records()).size).toBe(8);

    // A count limit, then the deletions allowed.
    expect(await run(program({}), { maxDeletes: 5 })).toBeInstanceOf(MassDeletionError);
    expect(await run(program({}), { maxDeletes: 6 })).toBeUndefined();
    expect((await records()).size).toBe(2);
  });

  it("lets --allow-deletes through, never guards alchemy destroy, and never stops fewer than 5 deletions by percentage", async () => {
    const many = async (n: number) => {
      for (let i = 0; i < n; i++) await world.Thing(`t${i}`, {});
    };
    await run(() => many(8));
    expect(await run(() => many(4))).toBeUndefined(); // 4 of 8: half, not more
    expect(await run(() => many(0))).toBeUndefined(); // 4 of 4, but fewer than 5
    await run(() => many(10));
    expect(await run(() => many(1), { allowDeletes: true })).toBeUndefined();
    await run(() => many(10));
    expect(await run(() => many(10), { phase: "destroy" })).toBeUndefined();
    expect((await records()).size).toBe(0);
  });
});
