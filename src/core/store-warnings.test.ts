import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryStateStore, createMemoryStateTree } from "../state/memory/memory-state-store.js";
import type { StateStoreScope } from "../state/state-store.js";
import { alchemy, createWorld, tempDir } from "./world.test-fixture.js";

// A CI runner sets CI=true, which adds the engine's warning about state kept on the runner.
const savedCi = process.env.CI;
beforeEach(() => {
  delete process.env.CI;
});
afterEach(() => {
  vi.restoreAllMocks();
  if (savedCi === undefined) delete process.env.CI;
  else process.env.CI = savedCi;
});

/** What the engine printed as warnings (`! ...` on stderr) during `body`. */
async function warningsPrinted(body: () => Promise<void>): Promise<string[]> {
  const printed = vi.spyOn(console, "error").mockImplementation(() => {});
  await body();
  return printed.mock.calls.map((call) => String(call[0])).filter((line) => line.startsWith("! "));
}

describe("the stage store's warnings", () => {
  it("are each reported once per run, after the store is opened, and the run goes on", async () => {
    const tree = createMemoryStateTree();
    const opened: string[] = [];
    class WarningStore extends MemoryStateStore {
      constructor(readonly scope: StateStoreScope) {
        super(scope, { tree });
      }
      async init(): Promise<void> {
        opened.push(this.scope.chain.join("/"));
      }
      warnings(): string[] {
        expect(opened).toContain(this.scope.chain.join("/"));
        return ["The state is kept somewhere odd: move it.", "The state is kept somewhere odd: move it.", "Another problem: fix it."];
      }
    }
    const world = createWorld();
    const printed = await warningsPrinted(async () => {
      const app = await alchemy("app", { stage: "dev", quiet: true, stateStore: (scope) => new WarningStore(scope) });
      await world.Thing("a", {});
      await app.finalize();
    });
    expect(printed).toEqual(["! The state is kept somewhere odd: move it.", "! Another problem: fix it."]);
    expect(world.calls.map((c) => `${c.phase} ${c.fqn}`)).toEqual(["create app/dev/a"]);
  });

  it("of the default filesystem store name a world-writable .alchemy and the chmod that fixes it; a 0700 or sticky one gives none", async () => {
    const tmp = tempDir();
    try {
      const root = path.join(tmp.dir, ".alchemy");
      fs.mkdirSync(root);
      const run = () => warningsPrinted(async () => (await alchemy("app", { stage: "dev", rootDir: tmp.dir, quiet: true })).finalize());
      fs.chmodSync(root, 0o777);
      expect(await run()).toEqual([
        `! The state directory ${root} can be written by every user of this machine (mode 0777): ` +
          `any of them could change or plant records there. Run \`chmod 700 ${root}\` to keep it yours.`,
      ]);
      vi.restoreAllMocks();
      fs.chmodSync(root, 0o700);
      expect(await run()).toEqual([]);
      vi.restoreAllMocks();
      fs.chmodSync(root, 0o1777);
      expect(await run()).toEqual([]);
    } finally {
      tmp.remove();
    }
  });
});
