import { describe, expect, it } from "vitest";
import type { AlchemyOptions, StateStoreFactory } from "alchemy";
import { alchemy, createWorld, tempDir } from "../../core/world.test-fixture.js";
import { useTestSchema } from "./postgres.test-fixture.js";
import { PostgresStateStore } from "./postgres-state-store.js";

describe("the engine on PostgresStateStore", () => {
  const db = useTestSchema();

  /** One run of a program with a top-level resource, a nested scope, a scope nested in it and a resource scope. */
  async function deploy(world: ReturnType<typeof createWorld>, dir: string, options: AlchemyOptions = {}, withJobs = true) {
    const stateStore: StateStoreFactory = (scope) => new PostgresStateStore(scope, db.options());
    const app = await alchemy("app", { stage: "dev", rootDir: dir, quiet: true, stateStore, ...options });
    const network = await world.Thing("network", { value: 1, children: ["subnet"] });
    await alchemy.run("backend", async () => {
      const database = await world.Thing("db", { value: "pg", uses: [network] });
      if (withJobs) await alchemy.run("jobs", async () => void (await world.Thing("worker", { uses: [database] })));
    });
    await app.finalize();
  }

  const rows = () =>
    db.query<{ scope: string; id: string; status: string }>(
      `SELECT scope, id, (body::jsonb)->>'status' AS status FROM ${db.schema}.records ORDER BY scope COLLATE "C", id`,
    );

  it("deploys nested scopes, changes nothing on redeploy, deletes what the program drops, and destroys everything", { timeout: 60_000 }, async () => {
    const world = createWorld();
    const { dir, remove } = tempDir("alchemy-pg-engine-");
    try {
      await deploy(world, dir);
      expect(await rows()).toEqual([
        { scope: "app/dev", id: "network", status: "created" },
        { scope: "app/dev/backend", id: "db", status: "created" },
        { scope: "app/dev/backend/jobs", id: "worker", status: "created" },
        { scope: "app/dev/network", id: "subnet", status: "created" },
      ]);
      const [worker] = await db.query<{ body: string }>(`SELECT body FROM ${db.schema}.records WHERE id = 'worker'`);
      expect(JSON.parse(worker!.body)).toMatchObject({ fqn: "app/dev/backend/jobs/worker", deps: ["app/dev/backend/db"] });
      expect(world.count("create")).toBe(4);

      world.reset();
      const before = await db.query(`SELECT scope, id, body, updated_at FROM ${db.schema}.records ORDER BY 1, 2`);
      await deploy(world, dir);
      expect(world.calls).toEqual([]);
      expect(await db.query(`SELECT scope, id, body, updated_at FROM ${db.schema}.records ORDER BY 1, 2`)).toEqual(before);

      world.reset();
      await deploy(world, dir, {}, false);
      expect(world.calls.filter((c) => c.phase === "delete").map((c) => c.fqn)).toEqual(["app/dev/backend/jobs/worker"]);
      expect((await rows()).map((r) => `${r.scope}/${r.id}`)).toEqual(["app/dev/network", "app/dev/backend/db", "app/dev/network/subnet"]);

      world.reset();
      await deploy(world, dir, { phase: "destroy" }, false);
      expect(world.count("delete")).toBe(3);
      expect(world.violations).toEqual([]);
      expect(world.live.size).toBe(0);
      expect(await rows()).toEqual([]);
    } finally {
      remove();
    }
  });
});
