import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryStateStore, createMemoryStateTree } from "../state/memory/memory-state-store.js";
import { alchemy, createWorld, memoryState, tempDir } from "./world.test-fixture.js";
import { ScopeError } from "./errors.js";

describe("scopes", () => {
  it("gives nested scopes of any depth their own path, and resources an fqn under it", async () => {
    const world = createWorld();
    const state = memoryState();
    const app = await alchemy("app", state.options());
    const paths: string[] = [];
    await alchemy.run("a", async (a) => {
      paths.push(a.path);
      await alchemy.run("b", async (b) => {
        paths.push(b.path);
        await alchemy.run("c", async (c) => {
          paths.push(c.path);
          await world.Thing("deep", {});
        });
      });
    });
    await app.finalize();
    expect(paths).toEqual(["app/test/a", "app/test/a/b", "app/test/a/b/c"]);
    expect([...world.live.keys()]).toEqual(["app/test/a/b/c/deep"]);
  });

  it("uses $ALCHEMY_STAGE, then $USER, then dev as the default stage", async () => {
    const tree = createMemoryStateTree();
    const stateStore = (scope: { chain: readonly string[] }) => new MemoryStateStore(scope, { tree });
    const saved = { stage: process.env.ALCHEMY_STAGE, user: process.env.USER };
    try {
      process.env.ALCHEMY_STAGE = "from-env";
      expect((await alchemy("app", { stateStore, quiet: true })).stage.name).toBe("from-env");
      delete process.env.ALCHEMY_STAGE;
      process.env.USER = "alice";
      expect((await alchemy("app", { stateStore, quiet: true })).stage.name).toBe("alice");
      delete process.env.USER;
      expect((await alchemy("app", { stateStore, quiet: true })).stage.name).toBe("dev");
    } finally {
      if (saved.stage === undefined) delete process.env.ALCHEMY_STAGE;
      else process.env.ALCHEMY_STAGE = saved.stage;
      if (saved.user !== undefined) process.env.USER = saved.user;
    }
  });

  it("deletes orphans of a block when the block completes, leaving siblings alone", async () => {
    const world = createWorld();
    const state = memoryState();
    for (const run of [1, 2]) {
      const app = await alchemy("app", state.options());
      await alchemy.run("one", async () => {
        await world.Thing("keep", {});
        if (run === 1) await world.Thing("gone", {});
      });
      await alchemy.run("two", async () => {
        await world.Thing("sibling", {});
      });
      await app.finalize();
    }
    expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn)).toEqual(["app/test/one/gone"]);
  });

  it("finalizeNested deletes everything in a block that did not run, and nothing else", async () => {
    const world = createWorld();
    const state = memoryState();
    let app = await alchemy("app", state.options());
    await alchemy.run("legacy", async () => {
      await world.Thing("l1", {});
      await alchemy.run("inner", async () => void (await world.Thing("l2", {})));
    });
    await alchemy.run("current", async () => void (await world.Thing("c1", {})));
    await world.Thing("top", {});
    await app.finalize();

    app = await alchemy("app", state.options());
    await alchemy.run("current", async () => void (await world.Thing("c1", {})));
    await app.finalizeNested("legacy");
    expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn).sort()).toEqual([
      "app/test/legacy/inner/l2",
      "app/test/legacy/l1",
    ]);
    // The stage itself was not finalized: "top" is undeclared this run but still exists.
    expect(world.live.has("app/test/top")).toBe(true);
  });

  it("finalizes the application at the end of an `await using` block", async () => {
    const world = createWorld();
    const state = memoryState();
    {
      await using app = await alchemy("app", state.options());
      await world.Thing("a", {});
      await world.Thing("b", {});
      expect(app.stage.isFinalized).toBe(false);
    }
    {
      await using _app = await alchemy("app", state.options());
      await world.Thing("a", {});
    }
    expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn)).toEqual(["app/test/b"]);
  });

  it("lets a nested scope use its own state store, inherited by its children", async () => {
    const world = createWorld();
    const state = memoryState();
    const other = createMemoryStateTree();
    const own = (scope: { chain: readonly string[] }) => new MemoryStateStore(scope, { tree: other });
    for (const run of [1, 2]) {
      const app = await alchemy("app", state.options());
      await alchemy.run("elsewhere", { stateStore: own }, async () => {
        await alchemy.run("child", async () => {
          await world.Thing("kept", {});
          if (run === 1) await world.Thing("dropped", {});
        });
      });
      await app.finalize();
    }
    expect(await new MemoryStateStore({ chain: ["app", "test", "elsewhere", "child"] }, { tree: other }).list()).toEqual(["kept"]);
    expect(state.log.some((c) => c.scope.startsWith("app/test/elsewhere"))).toBe(false);
    expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn)).toEqual(["app/test/elsewhere/child/dropped"]);
  });

  it("rejects an id declared twice in one scope", async () => {
    const world = createWorld();
    const app = await alchemy("app", memoryState().options());
    await world.Thing("twice", {});
    expect(() => world.Thing("twice", {})).toThrow(/Resource id "twice" is declared twice in scope "app\/test"/);
    await app.finalize();
  });

  it("refuses resources and blocks outside an application, naming the fix", () => {
    const script = [
      'import alchemy, { Resource } from "alchemy";',
      'const T = Resource("t::Outside", async function () { return {}; });',
      'try { await T("x", {}); } catch (e) { console.log(e.message); }',
      'try { await alchemy.run("block", async () => {}); } catch (e) { console.log(e.message); }',
    ].join("\n");
    const out = execFileSync(process.execPath, ["--import", "tsx", "--conditions=source", "--input-type=module", "-e", script], {
      cwd: path.resolve(import.meta.dirname, "../.."),
      encoding: "utf8",
    });
    expect(out).toContain('t::Outside "x" was declared outside an application. Call `await alchemy("my-app")`');
    expect(out).toContain('alchemy.run("block") was called outside an application');
  });

  it("refuses a resource declared after its scope was finalized", async () => {
    const world = createWorld();
    const app = await alchemy("app", memoryState().options());
    await app.finalize();
    expect(() => world.Thing("late", {})).toThrow(/scope "app\/test": the scope was already finalized/);
  });
});

describe("names", () => {
  const invalid = ["..", ".", "a/b", "a\\b", "", "a:b", "a\u0000b", "a\nb", "a\u007fb"];

  it.each(invalid)("rejects the resource id %j before any state is written", async (id) => {
    const world = createWorld();
    const { dir, remove } = tempDir();
    try {
      const app = await alchemy("app", { stage: "test", rootDir: dir, quiet: true });
      expect(() => world.Thing(id, {})).toThrow(ScopeError);
      await app.finalize();
      expect(existsSync(path.join(dir, ".alchemy", "app", "test")) ? readdirSync(path.join(dir, ".alchemy", "app", "test")).filter((f) => f.endsWith(".json")) : []).toEqual([]);
    } finally {
      remove();
    }
  });

  it.each(invalid)("rejects the scope name %j", async (name) => {
    const app = await alchemy("app", memoryState().options());
    await expect(alchemy.run(name, async () => {})).rejects.toThrow(ScopeError);
    await app.finalize();
  });

  it.each(invalid)("rejects the application or stage name %j without touching the disk", async (name) => {
    const { dir, remove } = tempDir();
    try {
      expect(() => alchemy(name, { rootDir: dir, quiet: true })).toThrow(ScopeError);
      expect(() => alchemy("app", { stage: name, rootDir: dir, quiet: true })).toThrow(/Invalid stage/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      remove();
    }
  });

  it("explains what is wrong and how to fix it", async () => {
    const world = createWorld();
    const app = await alchemy("app", memoryState().options());
    expect(() => world.Thing("../etc", {})).toThrow(
      'Invalid resource id "../etc" in "app/test": it contains "/". Use letters, digits, "-", "_" and "." only',
    );
    await app.finalize();
  });
});

describe("stage isolation", () => {
  it("never reads or deletes another stage's records, whatever the app level holds", async () => {
    const world = createWorld();
    const state = memoryState();
    const prod = await alchemy("app", state.options({ stage: "prod" }));
    await world.Thing("db", {});
    await alchemy.run("backend", async () => void (await world.Thing("api", {})));
    await prod.finalize();
    // A stray record at the application level, as an old replace might have left.
    await new MemoryStateStore({ chain: ["app"] }, { tree: state.tree }).set("stray", {
      status: "created", kind: world.kind, id: "stray", fqn: "app/stray", seq: 1, data: {}, props: {}, output: {}, deps: [],
    });
    state.log.length = 0;

    const dev = await alchemy("app", state.options({ stage: "dev" }));
    await world.Thing("other", {});
    await dev.finalize();
    const devDestroy = await alchemy("app", state.options({ stage: "dev", phase: "destroy" }));
    await devDestroy.finalize();

    expect(state.log.filter((c) => !c.scope.startsWith("app/dev"))).toEqual([]);
    expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn)).toEqual(["app/dev/other"]);
    expect(world.live.has("app/prod/db") && world.live.has("app/prod/backend/api")).toBe(true);
  });
});
