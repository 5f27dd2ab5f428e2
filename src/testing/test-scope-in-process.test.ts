/**
 * `alchemy.test` called from this file's own tests: results and errors, how a
 * stage is chosen when another scope or run holds one, use outside vitest,
 * and what it prints. State goes to a temp directory (the stateStore option).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import alchemy, { Resource, ScopeError, TestCleanupError, type Context } from "alchemy";
import { File } from "alchemy/fs";
import { FileSystemStateStore } from "alchemy/state";
import { afterAll, describe, expect, it, vi } from "vitest";
import { currentHolder, StageLockedError } from "../state/stage-lock.js";
import type { StateStoreFactory } from "../state/state-store.js";
import { stageSlug, testAppName } from "./test-names.js";

const dir = mkdtempSync(path.join(tmpdir(), "alchemy-test-scope-"));
const stateStore: StateStoreFactory = (scope) => new FileSystemStateStore(scope, { dir: path.join(dir, "state") });
const app = testAppName(import.meta);
const at = (name: string) => path.join(dir, name);
/** The stage a scope of the running test derives from its name. */
const derived = () => stageSlug(expect.getState().currentTestName!);

/** A resource whose delete always fails (its record stays in the temp directory). */
const Sticky = Resource("test-scope::Sticky", async function (this: Context<{ id: string }>, id: string) {
  if (this.phase === "delete") throw new Error("refuses to go");
  return { id };
});

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("alchemy.test in this process", () => {
  it("resolves with the function's result, and rejects with its own error object, after destroying what it created", async () => {
    const result = await alchemy.test(import.meta, { stateStore }, async () => {
      await File("a", { path: at("a.txt"), content: "a" });
      return 42;
    });
    expect(result).toBe(42);
    expect(existsSync(at("a.txt"))).toBe(false);

    const mine = new Error("mine");
    await expect(
      alchemy.test(import.meta, { stateStore }, async () => {
        await File("b", { path: at("b.txt"), content: "b" });
        throw mine;
      }),
    ).rejects.toBe(mine);
    expect(existsSync(at("b.txt"))).toBe(false);
  });

  it("leaves the caller outside any application once it resolves", async () => {
    await alchemy.test(import.meta, { stateStore }, () => File("c", { path: at("c.txt"), content: "c" }));
    expect(() => File("outside", { path: at("outside.txt"), content: "x" })).toThrow(ScopeError);
    expect(existsSync(at("outside.txt"))).toBe(false);
  });

  it("gives a second scope of the same test the next stage while the first is alive", async () => {
    const { opened, open } = gate();
    const paths: string[] = [];
    const first = alchemy.test(import.meta, { stateStore }, async (scope) => {
      paths.push(scope.path);
      await opened;
    });
    const second = alchemy.test(import.meta, { stateStore }, (scope) => {
      paths.push(scope.path);
      open();
    });
    await Promise.all([first, second]);
    expect(paths.sort()).toEqual([`${app}/${derived()}`, `${app}/${derived()}-2`]);
  });

  it("fails a scope whose explicit stage another scope of the process is using, naming the stage", async () => {
    const { opened, open } = gate();
    const first = alchemy.test(import.meta, { stateStore, stage: "fixed" }, () => opened);
    await expect(alchemy.test(import.meta, { stateStore, stage: "fixed" }, () => undefined)).rejects.toThrow(
      /^Stage "fixed" of src\/testing\/test-scope-in-process\.test\.ts is already used by another test scope of this process\. Give each test its own stage option/,
    );
    open();
    await first;
  });

  it("takes the next stage when a live run holds the lock of the derived one, and fails on an explicit one", async () => {
    const lock = await new FileSystemStateStore({ chain: [app, derived()] }, { dir: path.join(dir, "state") }).lock({
      holder: currentHolder("another run"),
      leaseMs: 30_000,
      timeoutMs: 0,
    });
    try {
      expect(await alchemy.test(import.meta, { stateStore }, (scope) => scope.path)).toBe(`${app}/${derived()}-2`);
      await expect(alchemy.test(import.meta, { stateStore, stage: derived() }, () => undefined)).rejects.toBeInstanceOf(StageLockedError);
    } finally {
      await lock.release();
    }
  });

  it("fails with a TestCleanupError naming what it could not destroy, and later scopes do not start on those leftovers", async () => {
    const error = await alchemy.test(import.meta, { stateStore }, () => Sticky("left")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TestCleanupError);
    expect((error as TestCleanupError).failures.map((f) => [f.fqn, f.error.message])).toEqual([[`${app}/${derived()}/left`, "refuses to go"]]);

    expect(await alchemy.test(import.meta, { stateStore }, (scope) => scope.path)).toBe(`${app}/${derived()}-2`);
    await expect(alchemy.test(import.meta, { stateStore, stage: derived() }, () => undefined)).rejects.toThrow(
      /still holds resources an earlier run could not destroy/,
    );
  });

  it('runs a scope outside vitest in the stage "test", and refuses to define tests there', async () => {
    const meta = { url: pathToFileURL(at("plain.ts")).href };
    expect(await alchemy.test(meta, { stateStore }, (scope) => scope.path)).toBe(`${testAppName(meta)}/test`);
    expect(() => alchemy.test(meta)).toThrow(/^alchemy\.test\(import\.meta\) defines vitest tests: run this file with vitest/);
  });

  it("prints the resources it creates and destroys only when quiet is false", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      await alchemy.test(import.meta, { stateStore }, () => File("q", { path: at("q.txt"), content: "q" }));
      expect(log).not.toHaveBeenCalled();
      await alchemy.test(import.meta, { stateStore, quiet: false }, () => File("q", { path: at("q.txt"), content: "q" }));
      const printed = log.mock.calls.flat().join("\n");
      expect(printed).toMatch(/✓ created .*\/q$/m);
      expect(printed).toMatch(/✓ deleted .*\/q$/m);
    } finally {
      log.mockRestore();
    }
  });

  it("rejects arguments it cannot use, saying what it takes", () => {
    expect(() => alchemy.test(undefined as never)).toThrow(/takes the test file's own import\.meta/);
    expect(() => alchemy.test(import.meta, { stage: 7 as never }, () => undefined)).toThrow(/the stage option must be a string/);
    expect(() => alchemy.test(import.meta, {}, "fn" as never)).toThrow(/needs a function as its last argument/);
    expect(() => alchemy.test(import.meta)("name", undefined as never)).toThrow(/takes a test name and a function/);
  });
});
