import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { AlchemyOptions, StateStoreFactory } from "alchemy";
import { alchemy, createWorld, tempDir } from "../../core/world.test-fixture.js";
import { StageLockedError, type LockHolder } from "../stage-lock.js";
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

  it("holds the stage's lock in stage_locks while the program runs, refuses a second run of the stage meanwhile, and releases the lock at finalize", { timeout: 60_000 }, async () => {
    const world = createWorld();
    const { dir, remove } = tempDir("alchemy-pg-engine-lock-");
    const stateStore: StateStoreFactory = (scope) => new PostgresStateStore(scope, db.options());
    const lockRows = () =>
      db.query<{ id: string | null; token: number; holder: LockHolder | null }>(
        `SELECT id, token::int AS token, holder FROM ${db.schema}.stage_locks WHERE app = 'app' AND stage = 'dev'`,
      );
    try {
      const app = await alchemy("app", { stage: "dev", rootDir: dir, quiet: true, stateStore });
      await world.Thing("network", { value: 1 });
      const [held] = await lockRows();
      expect(held).toMatchObject({ id: expect.any(String), token: 1, holder: { host: os.hostname(), pid: process.pid } });

      const second = await alchemy("app", { stage: "dev", rootDir: dir, quiet: true, stateStore }).then(() => undefined, (e: unknown) => e);
      expect(second).toBeInstanceOf(StageLockedError);
      expect((second as StageLockedError).location).toBe(`postgres://127.0.0.1:5432/test#${db.schema}.stage_locks`);
      expect((second as Error).message).toContain(`State for stage "dev" is locked by another process: `);
      expect((second as Error).message).toContain(`pid ${process.pid} (node (app program)), lock id ${held!.id}`);

      await app.finalize();
      expect(await lockRows()).toEqual([{ id: null, token: 1, holder: null }]);
      expect(await rows()).toEqual([{ scope: "app/dev", id: "network", status: "created" }]);
      expect(world.count("create")).toBe(1);
    } finally {
      remove();
    }
  });

  it("halts a run whose lock was taken over while it was paused: its state write is refused, no provider is called again, and it exits 1", { timeout: 60_000 }, async () => {
    const repo = path.resolve(import.meta.dirname, "../../..");
    const { dir, remove } = tempDir("alchemy-pg-engine-fence-");
    const child = spawn(
      process.execPath,
      ["--import", path.join(repo, "node_modules/tsx/dist/loader.mjs"), "--conditions", "source", path.join(import.meta.dirname, "engine-run.test-fixture.ts")],
      { cwd: repo, env: { ...process.env, DATABASE_URL: db.connectionString, SCHEMA: db.schema, ROOT_DIR: dir, LEASE_MS: "900", SLOW_MS: "800" } },
    );
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const firstCall = new Promise<void>((resolve) => child.stdout.on("data", (d) => (stdout += d).includes("call create one") && resolve()));
    const taker = new PostgresStateStore({ chain: ["app", "dev"] }, db.options());
    try {
      await Promise.race([firstCall, exited.then(() => Promise.reject(new Error(`the program exited early: ${stdout}${stderr}`)))]);
      child.kill("SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, 1_300)); // the 900 ms lease runs out
      const holder: LockHolder = { user: "tester", host: os.hostname(), pid: process.pid, command: "taker" };
      const lock = await taker.lock({ holder, leaseMs: 30_000, timeoutMs: 0 });
      expect(lock.tookOverFrom?.holder.pid).toBe(child.pid);
      child.kill("SIGCONT");
      expect(await exited).toBe(1);
      expect(stdout.split("\n").filter((line) => line.startsWith("call "))).toEqual(["call create one"]);
      expect(stdout).toContain("Lost the lock");
      // The intent recorded before the handler ran, under the lock, stays; the outcome written after the takeover was refused.
      expect(await rows()).toEqual([{ scope: "app/dev", id: "one", status: "creating" }]);
      expect((await taker.lockInfo())?.id).toBe(lock.info.id);
      await lock.release();
    } finally {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      await taker.deinit();
      remove();
    }
  });
});
