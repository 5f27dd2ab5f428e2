import path from "node:path";
import Sqlite from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { alchemy, createWorld, tempDir } from "../../core/world.test-fixture.js";
import { SQLiteStateStore } from "./sqlite-state-store.js";

describe("the engine on a SQLiteStateStore", () => {
  it("deploys nested scopes, redeploys with no changes and destroys the stage, leaving other stages alone", async () => {
    const world = createWorld();
    const { dir, remove } = tempDir("alchemy-sqlite-engine-");
    const filename = path.join(dir, "state", "state.sqlite");
    const options = (stage: string, phase?: "destroy") => ({
      stage, rootDir: dir, quiet: true, ...(phase ? { phase } : {}),
      stateStore: (scope: { chain: readonly string[] }) => new SQLiteStateStore(scope, { filename }),
    });
    const program = async (stage: string, phase?: "destroy") => {
      const app = await alchemy("app", options(stage, phase));
      const network = await world.Thing("network", { value: "10.0.0.0/16" });
      await alchemy.run("backend", async () => {
        const db = await world.Thing("db", { uses: [network] });
        await alchemy.run("jobs", async () => void (await world.Thing("worker", { uses: [db], children: ["queue"] })));
      });
      await alchemy.run("frontend", async () => void (await world.Thing("site", { uses: [network] })));
      await app.finalize();
    };
    const rows = () => {
      const db = new Sqlite(filename, { readonly: true });
      try {
        return db.prepare("SELECT scope || '/' || id FROM records ORDER BY 1").pluck().all();
      } finally {
        db.close();
      }
    };
    try {
      await program("dev");
      await program("prod");
      const dev = [
        "app/dev/backend/db",
        "app/dev/backend/jobs/worker",
        "app/dev/backend/jobs/worker/queue",
        "app/dev/frontend/site",
        "app/dev/network",
      ];
      expect(rows()).toEqual([...dev, ...dev.map((fqn) => fqn.replace("/dev/", "/prod/"))]);
      expect(world.count("create")).toBe(10);

      world.reset();
      await program("dev");
      expect(world.calls).toEqual([]); // nothing created, updated or deleted
      expect(rows()).toHaveLength(10);

      await program("dev", "destroy");
      expect(world.count("delete")).toBe(5);
      expect(world.violations).toEqual([]);
      expect(rows()).toEqual(dev.map((fqn) => fqn.replace("/dev/", "/prod/")));
      const application = new SQLiteStateStore({ chain: ["app"] }, { filename });
      expect(await application.listScopes()).toEqual(["prod"]);
      await application.deinit();
    } finally {
      remove();
    }
  });
});
