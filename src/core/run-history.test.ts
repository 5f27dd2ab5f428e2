import os from "node:os";
import path from "node:path";
import { existsSync, writeFileSync } from "node:fs";
import { File } from "alchemy/fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileSystemStateStore } from "../state/fs/fs-state-store.js";
import { keepsHistory, listRuns, recordsAt, type HistoryStore } from "../history/stage-history.js";
import { alchemy, createWorld, tempDir } from "./world.test-fixture.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

const run = (phase: "up" | "destroy" | "plan" | "read" | "refresh" = "up", extra: Record<string, unknown> = {}) =>
  alchemy("app", { stage: "dev", phase, rootDir: tmp.dir, quiet: true, password: "pw-for-tests", ...extra });

async function withStage<T>(body: (store: HistoryStore) => Promise<T>): Promise<T> {
  const store = new FileSystemStateStore({ chain: ["app", "dev"] }, { dir: path.join(tmp.dir, ".alchemy") });
  await store.init();
  try {
    if (!keepsHistory(store)) throw new Error("the filesystem store keeps history");
    return await body(store);
  } finally {
    await store.deinit();
  }
}

const history = () => withStage((store) => listRuns(store));

describe("the history entry of a run of the engine", () => {
  it("is appended by a deploy that changes the stage: run id, command, who, when, duration, outcome, and per resource the action and changed paths", async () => {
    const { Thing } = createWorld();
    const before = Date.now();
    let app = await run();
    await Thing("a", { value: "one" });
    await Thing("b", { value: "x" });
    await app.finalize();
    app = await run();
    await Thing("a", { value: "two" });
    await app.finalize(); // b is an orphan: the clean-up deletes it in the same run
    const [second, first] = await history();
    expect(first).toMatchObject({ command: "deploy", by: `${os.userInfo().username}@${os.hostname()}`, outcome: "ok", keep: 100 });
    expect(first!.resources.map((r) => [r.fqn, r.action])).toEqual([["app/dev/a", "create"], ["app/dev/b", "create"]]);
    expect(Date.parse(first!.at)).toBeGreaterThanOrEqual(before - 1000);
    expect(first!.durationMs).toBeGreaterThanOrEqual(0);
    expect(second!.run > first!.run).toBe(true);
    expect(second!.resources).toEqual([
      { fqn: "app/dev/a", kind: expect.any(String), action: "update", changes: [{ path: "value", before: "one", after: "two" }] },
      { fqn: "app/dev/b", kind: expect.any(String), action: "delete", changes: [{ path: "value", before: "x" }] },
    ]);
  });

  it("is not appended by a deploy that changes nothing, nor by plan or read", async () => {
    const { Thing } = createWorld();
    for (const phase of ["up", "up", "plan", "read"] as const) {
      const app = await run(phase);
      await Thing("a", { value: "one" });
      await app.finalize();
    }
    expect(await history()).toHaveLength(1);
  });

  it("is appended by a destroy that leaves resources, and a destroy that empties the stage removes the stage's history with it", async () => {
    const { Thing, failOn, heal } = createWorld();
    let app = await run();
    await Thing("a", { value: "one" });
    await Thing("b", { value: "two" });
    await app.finalize();
    failOn("delete", "app/dev/b", "still in use");
    app = await run("destroy");
    await expect(app.finalize()).rejects.toThrow();
    const [partial] = await history();
    expect(partial).toMatchObject({ command: "destroy", outcome: "failed", resources: [{ fqn: "app/dev/a", action: "delete" }, { fqn: "app/dev/b", action: "delete", failed: true }] });
    expect(await withStage((store) => recordsAt(store, partial!.run))).toMatchObject([{ fqn: "app/dev/b", status: "deleting" }]);
    heal();
    app = await run("destroy");
    await app.finalize();
    expect(await history()).toEqual([]);
    expect(existsSync(path.join(tmp.dir, ".alchemy", "app", "dev"))).toBe(false);
  });

  it("says failed for a deploy that failed after changing something", async () => {
    const { Thing, failOn } = createWorld();
    failOn("create", "app/dev/b", "refused");
    const app = await run();
    await Thing("a", {});
    await expect(Thing("b", {})).rejects.toThrow("refused");
    await app.release();
    const [entry] = await history();
    expect(entry).toMatchObject({ outcome: "failed" });
    expect(entry!.resources.map((r) => [r.fqn, r.action])).toEqual([["app/dev/a", "create"], ["app/dev/b", "create"]]);
  });

  it("says interrupted for a deploy stopped by its signal after changing something", async () => {
    const { Thing } = createWorld();
    const controller = new AbortController();
    const app = await run("up", { signal: controller.signal });
    await Thing("a", {});
    controller.abort();
    await expect(Thing("b", {})).rejects.toThrow();
    await app.release();
    const [entry] = await history();
    expect(entry).toMatchObject({ outcome: "interrupted", resources: [{ fqn: "app/dev/a", action: "create" }] });
  });

  it("is appended by a refresh that recorded drift, with the drifted paths, and not by one that found none", async () => {
    const file = path.join(tmp.dir, "site.html");
    let app = await run();
    await File("site", { path: file, content: "<h1>Hi</h1>" });
    await app.finalize();
    for (let i = 0; i < 2; i++) {
      if (i === 0) writeFileSync(file, "<h1>edited by hand</h1>");
      app = await run("refresh");
      await File("site", { path: file, content: "<h1>Hi</h1>" });
      await app.finalize();
    }
    const [refreshed, deployed] = await history();
    expect(deployed).toMatchObject({ command: "deploy" });
    expect(refreshed).toMatchObject({ command: "refresh", resources: [{ fqn: "app/dev/site", action: "update" }] });
    expect(refreshed!.resources[0]!.changes).toContainEqual(expect.objectContaining({ before: "<h1>Hi</h1>", after: "<h1>edited by hand</h1>" }));
    expect(await history()).toHaveLength(2);
  });

  it("shows secrets as [secret], never their value or ciphertext", async () => {
    const { Thing } = createWorld();
    for (const value of ["first-s3cret-value", "second-s3cret-value"]) {
      const app = await run();
      await Thing("a", { value: "plain", secretValue: alchemy.secret(value) } as never);
      await app.finalize();
    }
    const entries = await history();
    const text = JSON.stringify(entries);
    expect(text).not.toMatch(/s3cret-value|@secret/);
    expect(entries[0]!.resources[0]!.changes).toEqual([{ path: "secretValue", before: "[secret]", after: "[secret]" }]);
  });

  it("keeps exact records of every kept run: a series of deploys exports, at each run, the records as they were after it", async () => {
    const { Thing } = createWorld();
    const after: unknown[] = [];
    for (const values of [["a1", "b1"], ["a2", "b1"], ["a2"], ["a3", "b3"]]) {
      const app = await run();
      await Thing("a", { value: values[0] });
      if (values[1]) await Thing("b", { value: values[1] });
      await app.finalize();
      after.push(await withStage(async (store) => Object.values(await store.all()).sort((x, y) => (x.fqn < y.fqn ? -1 : 1))));
    }
    const runs = (await history()).reverse();
    expect(runs).toHaveLength(4);
    for (const [i, entry] of runs.entries()) expect(await withStage((store) => recordsAt(store, entry.run))).toEqual(after[i]);
  });

  it("keeps historyLimit runs, and none with historyLimit: 0", async () => {
    const { Thing } = createWorld();
    for (let i = 0; i < 5; i++) {
      const app = await run("up", { historyLimit: 3 });
      await Thing("a", { value: `v${i}` });
      await app.finalize();
    }
    const kept = await history();
    expect(kept).toHaveLength(3);
    expect(await withStage((store) => recordsAt(store, kept[2]!.run))).toMatchObject([{ props: { value: "v2" } }]);
    const app = await run("up", { historyLimit: 0 });
    await Thing("a", { value: "unrecorded" });
    await app.finalize();
    expect(await history()).toHaveLength(3);
  });
});
