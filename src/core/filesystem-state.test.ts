import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { StateStoreError } from "./errors.js";
import { alchemy, createWorld, tempDir } from "./world.test-fixture.js";

const repo = path.resolve(import.meta.dirname, "../..");

describe("the default filesystem state", () => {
  it("writes one record per resource under .alchemy/<app>/<stage>/<nested...>/<id>.json", async () => {
    const world = createWorld();
    const { dir, remove } = tempDir();
    try {
      const app = await alchemy("shop", { stage: "prod", rootDir: dir, quiet: true });
      const db = await world.Thing("db", { value: 1 });
      await alchemy.run("backend", async () => {
        await alchemy.run("jobs", async () => void (await world.Thing("worker", { uses: [db] })));
      });
      await app.finalize();
      const file = path.join(dir, ".alchemy", "shop", "prod", "backend", "jobs", "worker.json");
      const record = JSON.parse(readFileSync(file, "utf8"));
      expect(Object.keys(record).sort()).toEqual(["data", "deps", "fqn", "id", "kind", "output", "props", "seq", "status"]);
      expect(record).toMatchObject({ status: "created", id: "worker", fqn: "shop/prod/backend/jobs/worker", deps: ["shop/prod/db"] });
    } finally {
      remove();
    }
  });

  it("leaves no stage directory behind once the stage is destroyed, and other stages alone", async () => {
    const world = createWorld();
    const { dir, remove } = tempDir();
    try {
      for (const stage of ["dev", "prod"]) {
        const app = await alchemy("app", { stage, rootDir: dir, quiet: true });
        await world.Thing("a", {});
        await alchemy.run("inner", async () => void (await world.Thing("b", {})));
        await app.finalize();
      }
      await (await alchemy("app", { stage: "dev", rootDir: dir, quiet: true, phase: "destroy" })).finalize();
      expect(readdirSync(path.join(dir, ".alchemy", "app"))).toEqual(["prod"]);
    } finally {
      remove();
    }
  });

  it("stops at a corrupt record, naming its absolute path, and deletes nothing", async () => {
    const world = createWorld();
    const { dir, remove } = tempDir();
    try {
      let app = await alchemy("app", { stage: "s", rootDir: dir, quiet: true });
      await world.Thing("a", {});
      await alchemy.run("inner", async () => {
        await world.Thing("b", {});
        await world.Thing("c", {});
      });
      await app.finalize();
      const broken = path.join(dir, ".alchemy", "app", "s", "inner", "b.json");
      writeFileSync(broken, '{"status": "created", "kind": ');

      // The next program declares nothing: without the check, everything would look orphaned.
      app = await alchemy("app", { stage: "s", rootDir: dir, quiet: true });
      const error = await app.finalize().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as Error).message).toContain(broken);
      expect(world.count("delete")).toBe(0);
      expect(readFileSync(broken, "utf8")).toBe('{"status": "created", "kind": ');
    } finally {
      remove();
    }
  });

  it("ends a program whose deletes failed with a non-zero exit listing every failure", () => {
    const { dir, remove } = tempDir();
    try {
      const script = (declare: boolean) =>
        [
          'import alchemy, { Resource } from "alchemy";',
          'const T = Resource("test::Stubborn", async function (id) {',
          '  if (this.phase === "delete" && id !== "fine") throw new Error(`${id} refuses to go`);',
          "  return {};",
          "});",
          `const app = await alchemy("app", { stage: "s", rootDir: ${JSON.stringify(dir)}, quiet: true });`,
          declare ? 'await T("x"); await T("y"); await T("fine");' : "",
          "await app.finalize();",
        ].join("\n");
      const run = (declare: boolean) =>
        spawnSync(process.execPath, ["--import", "tsx", "--conditions=source", "--input-type=module", "-e", script(declare)], {
          cwd: repo,
          encoding: "utf8",
        });
      expect(run(true).status).toBe(0);
      const failed = run(false);
      expect(failed.status).not.toBe(0);
      expect(failed.stderr).toContain("2 resource(s) could not be deleted and remain in state");
      expect(failed.stderr).toContain("app/s/x: x refuses to go");
      expect(failed.stderr).toContain("app/s/y: y refuses to go");
      // The delete that could succeed did.
      expect(JSON.parse(readFileSync(path.join(dir, ".alchemy", "app", "s", "x.json"), "utf8")).status).toBe("deleting");
      expect(() => readFileSync(path.join(dir, ".alchemy", "app", "s", "fine.json"))).toThrow(/ENOENT/);
    } finally {
      remove();
    }
  });
});
