import { describe, expect, it } from "vitest";
import { alchemy, createWorld, tempDir } from "../../core/world.test-fixture.js";
import { R2RestStateStore } from "./r2-rest-state-store.js";
import { fakeBucket, fakeOptions, freshBucket, useFakeCloudflare } from "./r2-rest.test-fixture.js";

const fake = useFakeCloudflare();

describe("the engine on an R2RestStateStore", () => {
  it("deploys nested scopes under the stage's lock, redeploys with no changes and destroys the stage, leaving other stages alone", async () => {
    const f = await fake();
    const bucket = await freshBucket(f);
    const world = createWorld();
    const { dir, remove } = tempDir("alchemy-r2-engine-");
    const options = (stage: string, phase?: "destroy") => ({
      stage, rootDir: dir, quiet: true, stateLocking: true, ...(phase ? { phase } : {}),
      stateStore: (scope: { chain: readonly string[] }) => new R2RestStateStore(scope, fakeOptions(f, bucket, { prefix: "state" })),
    });
    const program = async (stage: string, phase?: "destroy") => {
      const app = await alchemy("app", options(stage, phase));
      const network = await world.Thing("network", { value: "10.0.0.0/16" });
      await alchemy.run("backend", async () => {
        const db = await world.Thing("db", { uses: [network] });
        await alchemy.run("jobs", async () => void (await world.Thing("worker", { uses: [db], children: ["queue"] })));
      });
      await app.finalize();
    };
    const records = () => [...fakeBucket(f, bucket).objects.keys()].filter((key) => !key.includes("/~")).sort();
    try {
      await program("dev");
      await program("prod");
      const dev = ["state/app/dev/backend/db.json", "state/app/dev/backend/jobs/worker.json", "state/app/dev/backend/jobs/worker/queue.json", "state/app/dev/network.json"];
      expect(records()).toEqual([...dev, ...dev.map((key) => key.replace("/dev/", "/prod/"))]);
      expect(world.count("create")).toBe(8);
      expect(JSON.parse(Buffer.from(fakeBucket(f, bucket).objects.get("state/app/dev/~lock.json")!.body).toString())).toEqual({ id: null, token: 1 });

      world.reset();
      await program("dev");
      expect(world.calls).toEqual([]);

      await program("dev", "destroy");
      expect(world.count("delete")).toBe(4);
      expect(world.violations).toEqual([]);
      expect(records()).toEqual(dev.map((key) => key.replace("/dev/", "/prod/")));
      expect(await new R2RestStateStore({ chain: ["app"] }, fakeOptions(f, bucket, { prefix: "state" })).listScopes()).toEqual(["prod"]);
    } finally {
      remove();
    }
  });
});
