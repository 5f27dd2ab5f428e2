import { afterEach, describe, expect, it } from "vitest";
import { alchemy, createWorld, tempDir } from "../core/world.test-fixture.js";
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
