import os from "node:os";
import path from "node:path";
import { existsSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileSystemStateStore } from "../state/fs/fs-state-store.js";
import { SQLiteStateStore } from "../state/sqlite/sqlite-state-store.js";
import { lastDeployOf, type LastDeploy } from "./last-deploy.js";
import { alchemy, createWorld, tempDir } from "./world.test-fixture.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

async function metaOf(stage: string): Promise<Record<string, unknown> | undefined> {
  const store = new FileSystemStateStore({ chain: ["app", stage] }, { dir: path.join(tmp.dir, ".alchemy") });
  await store.init();
  try {
    return await store.getStageMeta();
  } finally {
    await store.deinit();
  }
}

const run = (stage: string, phase: "up" | "destroy" | "plan" | "read" = "up") =>
  alchemy("app", { stage, phase, rootDir: tmp.dir, quiet: true });

describe("the last deploy a stage records", () => {
  it("is set by a finalized deploy: when it ended, who ran it, the command, and that it succeeded", async () => {
    const { Thing } = createWorld();
    const before = Date.now();
    const app = await run("dev");
    await Thing("a", {});
    await app.finalize();
    const last = lastDeployOf(await metaOf("dev"))!;
    expect(last).toEqual({ at: expect.any(String), by: `${os.userInfo().username}@${os.hostname()}`, command: "node (app program)", ok: true });
    expect(Date.parse(last.at)).toBeGreaterThanOrEqual(before);
  });

  it("is set, marked not ok, by a deploy that failed after touching a resource", async () => {
    const { Thing, failOn } = createWorld();
    failOn("create", "app/dev/b", "refused");
    const app = await run("dev");
    await Thing("a", {});
    await expect(Thing("b", {})).rejects.toThrow("refused");
    await app.release();
    expect(lastDeployOf(await metaOf("dev"))).toMatchObject({ ok: false });
  });

  it("is left as it was by a run released before any resource, and by plan and read", async () => {
    const { Thing } = createWorld();
    const first = await run("dev");
    await Thing("a", {});
    await first.finalize();
    const recorded = (await metaOf("dev"))!.lastDeploy as LastDeploy;
    await (await run("dev")).release();
    for (const phase of ["plan", "read"] as const) {
      const app = await run("dev", phase);
      await Thing("a", {});
      await app.finalize();
    }
    expect((await metaOf("dev"))!.lastDeploy).toEqual(recorded);
  });

  it("goes, with the rest of the stage's metadata and its directory, when a destroy empties the stage", async () => {
    const { Thing } = createWorld();
    const app = await run("dev");
    await Thing("a", {});
    await app.finalize();
    expect(await metaOf("dev")).toBeDefined();
    await (await run("dev", "destroy")).finalize();
    expect(await metaOf("dev")).toBeUndefined();
    expect(existsSync(path.join(tmp.dir, ".alchemy/app/dev"))).toBe(false);
  });

  it("lists nested scopes on other stores while they hold records, keeping every other key of the metadata", async () => {
    const { Thing } = createWorld();
    const store = new FileSystemStateStore({ chain: ["app", "dev"] }, { dir: path.join(tmp.dir, ".alchemy") });
    const deploy = async (inVault: string[]) => {
      const app = await run("dev");
      await Thing("a", {});
      await alchemy.run("vault", { stateStore: (scope) => new SQLiteStateStore(scope, { filename: path.join(tmp.dir, "vault.sqlite") }) }, async () => {
        for (const id of inVault) await Thing(id, {});
      });
      await app.finalize();
    };
    await deploy([]);
    await store.init();
    await store.setStageMeta({ ...(await store.getStageMeta()), another: { kept: true } });
    await store.deinit();
    await deploy(["b", "c"]);
    expect(await metaOf("dev")).toEqual({ lastDeploy: expect.any(Object), another: { kept: true }, nestedStores: { vault: 2 } });
    await deploy([]);
    expect(await metaOf("dev")).toEqual({ lastDeploy: expect.any(Object), another: { kept: true } });
  });

  it("reads as absent when the metadata holds no usable entry", () => {
    expect(lastDeployOf(undefined)).toBeUndefined();
    expect(lastDeployOf({ lastDeploy: "yesterday" })).toBeUndefined();
    expect(lastDeployOf({ lastDeploy: { at: "not a date" } })).toBeUndefined();
    expect(lastDeployOf({ lastDeploy: { at: "2026-01-02T03:04:05.000Z" } })).toEqual({ at: "2026-01-02T03:04:05.000Z", by: "unknown", command: "", ok: true });
  });
});
