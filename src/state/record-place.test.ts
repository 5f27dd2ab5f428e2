import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { StateStoreError } from "../core/errors.js";
import { alchemy, createWorld, tempDir } from "../core/world.test-fixture.js";

/**
 * A record describes the resource stored at its place: one that claims another
 * place (another stage, scope or id) in its `fqn` is refused when read, so the
 * engine never acts on a resource of another stage.
 */
describe("a record whose fqn claims another stage", () => {
  it("stops a deploy that no longer declares it, naming the file and the fix, and deletes nothing in either stage", async () => {
    const world = createWorld();
    const { dir, remove } = tempDir();
    try {
      for (const stage of ["prod", "dev"]) {
        const app = await alchemy("y", { stage, rootDir: dir, quiet: true });
        await world.Thing("a", {});
        await world.Thing("b", {});
        await app.finalize();
      }
      const file = path.join(dir, ".alchemy", "y", "dev", "a.json");
      writeFileSync(file, readFileSync(file, "utf8").replace('"fqn": "y/dev/a"', '"fqn": "y/prod/a"'));
      world.reset();

      const deploy = async () => {
        const app = await alchemy("y", { stage: "dev", rootDir: dir, quiet: true });
        await world.Thing("b", {});
        await app.finalize();
      };
      const error = await deploy().then(() => undefined, (e: unknown) => e);

      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).location).toBe(file);
      expect((error as Error).message).toContain(`State file ${file} is not a state record: it holds fqn "y/prod/a" but is stored as "y/dev/a"`);
      expect((error as Error).message).toContain('set its "fqn" to "y/dev/a"');
      expect(world.calls.filter((c) => c.phase === "delete")).toEqual([]);
      expect([...world.live.keys()].sort()).toEqual(["y/dev/a", "y/dev/b", "y/prod/a", "y/prod/b"]);
      expect(JSON.parse(readFileSync(path.join(dir, ".alchemy", "y", "prod", "a.json"), "utf8")).status).toBe("created");
    } finally {
      remove();
    }
  });
});
