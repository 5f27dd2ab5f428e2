import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Resource, Secret, type StateStoreFactory, type StateStoreScope } from "alchemy";
import { runLaunched, type DestroyPreview, type Launch } from "../core/launch.js";
import { alchemy, createWorld, tempDir } from "../core/world.test-fixture.js";
import { FileSystemStateStore } from "./fs/fs-state-store.js";
import { SQLiteStateStore } from "./sqlite/sqlite-state-store.js";

const dirs: { remove: () => void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

describe("a nested scope on a different store than its parent", () => {
  it("deploys, finds nothing to change, deletes its orphans and is destroyed in dependency order across both stores", async () => {
    const tmp = tempDir("alchemy-mixed-");
    dirs.push(tmp);
    const world = createWorld();
    const sqlite = (scope: { chain: readonly string[] }) => new SQLiteStateStore(scope, { filename: `${tmp.dir}/reports.sqlite` });
    const program = async (phase: "up" | "destroy", withOld = true) => {
      const app = await alchemy("app", { stage: "dev", rootDir: tmp.dir, quiet: true, phase });
      const base = await world.Thing("base", { value: 1 });
      const report = await alchemy.run("reports", { stateStore: sqlite }, async () => {
        if (withOld) await world.Thing("old", { value: "old" });
        return world.Thing("daily", { value: "daily", uses: [base] });
      });
      await world.Thing("dashboard", { value: "dash", uses: [report] });
      await app.finalize();
      return app;
    };
    await program("up");
    expect([...world.live.keys()].sort()).toEqual(["app/dev/base", "app/dev/dashboard", "app/dev/reports/daily", "app/dev/reports/old"]);
    world.reset();
    const again = await program("up");
    expect(world.calls).toEqual([]);
    expect(again.summary.unchanged).toBe(4);
    await program("up", false);
    expect(world.live.has("app/dev/reports/old")).toBe(false);
    await program("destroy", false);
    expect(world.live.size).toBe(0);
    expect(world.violations).toEqual([]);
  });
});

const vaultCalls: string[] = [];
const Vault = Resource("test::MixedVault", async function (id: string, props: { password: Secret }) {
  vaultCalls.push(`${this.phase} ${id}`);
  if (this.phase === "delete") return this.destroy();
  return { token: new Secret(`token-for-${props.password.unwrap()}`) };
});

/** The two ways round: the stage on one store, its nested scope "vault" on the other. */
const layouts = [
  { name: "the stage on the filesystem store and the nested scope on SQLite", stageOn: "fs", vaultOn: "sqlite" },
  { name: "the stage on SQLite and the nested scope on the filesystem store", stageOn: "sqlite", vaultOn: "fs" },
] as const;

function project(layout: (typeof layouts)[number]) {
  const tmp = tempDir("alchemy-mixed-meta-");
  dirs.push(tmp);
  const stores: Record<"fs" | "sqlite", StateStoreFactory> = {
    fs: (scope) => new FileSystemStateStore(scope, { dir: path.join(tmp.dir, ".alchemy") }),
    sqlite: (scope) => new SQLiteStateStore(scope, { filename: path.join(tmp.dir, "vault.sqlite") }),
  };
  const world = createWorld();
  const warnings: string[] = [];
  const options = (phase: "up" | "destroy") => ({
    stage: "dev",
    phase,
    rootDir: tmp.dir,
    quiet: true,
    password: "pw",
    stateStore: stores[layout.stageOn],
  });
  /** One run: `base` in the stage unless left out, and the vault block with `secrets` unless it is left out. */
  const run = async (declare: { base?: boolean; vault?: string[] | false }, phase: "up" | "destroy" = "up") => {
    const app = await alchemy("app", options(phase));
    try {
      if (declare.base !== false) await world.Thing("base", { value: 1 });
      const tokens: Record<string, string> = {};
      if (declare.vault !== false) {
        await alchemy.run("vault", { stateStore: stores[layout.vaultOn] }, async () => {
          for (const id of declare.vault || ["db"]) tokens[id] = ((await Vault(id, { password: alchemy.secret(`secret-${id}`) })) as { token: Secret }).token.unwrap();
        });
      }
      await app.finalize();
      return { app, tokens };
    } catch (error) {
      await app.release();
      throw error;
    }
  };
  /** The stage's metadata, read from the stage's own store. */
  const meta = async () => {
    const store = stores[layout.stageOn]({ chain: ["app", "dev"] } satisfies StateStoreScope);
    await store.init?.();
    try {
      return await store.getStageMeta!();
    } finally {
      await store.deinit?.();
    }
  };
  /** `run` as the command line launches it, collecting its warnings; under `destroy`, a stage without state is refused and the user is asked first. */
  const launched = async (declare: Parameters<typeof run>[0], phase: "up" | "destroy" = "up") => {
    const previews: DestroyPreview[] = [];
    const launch: Launch = {
      options: {},
      spelledAs: {},
      onEvent: () => {},
      onWarning: (message) => void warnings.push(message),
      requireState: phase === "destroy",
      confirmDestroy: async (preview) => (previews.push(preview), true),
      applications: [],
    };
    await runLaunched(launch, () => run(declare, phase));
    return previews;
  };
  return { world, warnings, run, launched, meta };
}

describe.each(layouts)("the stage metadata, with $name", (layout) => {
  afterEach(() => void (vaultCalls.length = 0));

  it("keeps the stage's secrets key while the nested scope holds a secret, after the stage's own last resource is removed", async () => {
    const p = project(layout);
    await p.run({});
    await p.run({ base: false });
    expect((await p.meta())?.secrets).toBeDefined();
    vaultCalls.length = 0;
    const { tokens } = await p.run({ base: false });
    expect(tokens).toEqual({ db: "token-for-secret-db" });
    expect(vaultCalls).toEqual([]);
  });

  it("lets a destroy find the nested scope's records when the stage's own store is empty, then leaves no metadata", async () => {
    const p = project(layout);
    await p.run({});
    await p.run({ base: false });
    const previews = await p.launched({ base: false }, "destroy");
    expect(previews).toMatchObject([{ appName: "app", stage: "dev", resources: 1 }]);
    expect(vaultCalls).toContain("delete db");
    expect(await p.meta()).toBeUndefined();
  });

  it("keeps the metadata, and the same key, when the nested scope is emptied while the stage still has records", async () => {
    const p = project(layout);
    await p.run({});
    const key = (await p.meta())?.secrets;
    await p.run({ vault: [] });
    expect((await p.meta())?.secrets).toEqual(key);
    await p.run({ vault: ["db"] });
    expect((await p.meta())?.secrets).toEqual(key);
  });

  it("keeps the key of a nested scope whose block was removed, warns how to delete what it holds, and lets the stage go once it is deleted", async () => {
    const p = project(layout);
    await p.run({});
    await p.launched({ base: false, vault: false });
    expect((await p.meta())?.secrets).toBeDefined();
    expect(p.warnings.join("\n")).toMatch(/"app\/dev\/vault" keeps 1 record\(s\) in a state store this run did not open.*alchemy\.run\("vault"/);
    vaultCalls.length = 0;
    await p.run({ base: false, vault: [] });
    expect(vaultCalls).toEqual(["delete db"]);
    expect(await p.meta()).toBeUndefined();
  });
});

describe("a destroy's count of a stage with nested scopes on other stores", () => {
  /** A deploy, then `alchemy destroy` as the command line launches it; returns the preview the user was shown. */
  async function deployThenDestroy(tmp: string, program: (phase: "up" | "destroy") => Promise<void>) {
    await program("up");
    const previews: DestroyPreview[] = [];
    const launch: Launch = {
      options: {},
      spelledAs: {},
      onEvent: () => {},
      requireState: true,
      confirmDestroy: async (preview) => (previews.push(preview), true),
      applications: [],
    };
    await runLaunched(launch, () => program("destroy"));
    const stage = new FileSystemStateStore({ chain: ["app", "dev"] }, { dir: path.join(tmp, ".alchemy") });
    await stage.init();
    const meta = await stage.getStageMeta();
    await stage.deinit();
    return { previews, meta };
  }

  it("counts each record once: in scopes below the nested store, and in a scope on a third store inside it", async () => {
    const tmp = tempDir("alchemy-mixed-count-");
    dirs.push(tmp);
    const world = createWorld();
    const sqlite = (file: string) => (scope: StateStoreScope) => new SQLiteStateStore(scope, { filename: path.join(tmp.dir, file) });
    let recorded: unknown;
    const { previews, meta } = await deployThenDestroy(tmp.dir, async (phase) => {
      const app = await alchemy("app", { stage: "dev", rootDir: tmp.dir, quiet: true, phase });
      await alchemy.run("vault", { stateStore: sqlite("vault.sqlite") }, async () => {
        await world.Thing("v", { children: ["c"] });
        await alchemy.run("inner", async () => world.Thing("i", {}));
        await alchemy.run("deep", { stateStore: sqlite("deep.sqlite") }, async () => world.Thing("d", {}));
      });
      await app.finalize();
      const stage = new FileSystemStateStore({ chain: ["app", "dev"] }, { dir: path.join(tmp.dir, ".alchemy") });
      await stage.init();
      recorded ??= (await stage.getStageMeta())?.nestedStores;
      await stage.deinit();
    });
    expect(recorded).toEqual({ vault: 3, "vault/deep": 1 });
    expect(previews).toMatchObject([{ resources: 4 }]);
    expect(world.live.size).toBe(0);
    expect(meta).toBeUndefined();
  });

  it("does not count twice a nested scope whose own store is the stage's store under another factory", async () => {
    const tmp = tempDir("alchemy-mixed-count-");
    dirs.push(tmp);
    const world = createWorld();
    const sameStore = (scope: StateStoreScope) => new FileSystemStateStore(scope, { dir: path.join(tmp.dir, ".alchemy") });
    const { previews, meta } = await deployThenDestroy(tmp.dir, async (phase) => {
      const app = await alchemy("app", { stage: "dev", rootDir: tmp.dir, quiet: true, phase });
      await world.Thing("base", {});
      await alchemy.run("reports", { stateStore: sameStore }, async () => world.Thing("r", {}));
      await app.finalize();
    });
    expect(previews).toMatchObject([{ resources: 2 }]);
    expect(world.live.size).toBe(0);
    expect(meta).toBeUndefined();
  });
});
