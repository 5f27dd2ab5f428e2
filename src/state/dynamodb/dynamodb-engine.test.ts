import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { alchemy, createWorld, tempDir } from "../../core/world.test-fixture.js";
import { DynamoDBStateStore } from "./dynamodb-state-store.js";
import { startProxy, type DynamoDBProxy } from "./dynamodb-proxy.test-fixture.js";
import { freshTable, separateClient, testOptions, useDynalite } from "./dynamodb.test-fixture.js";

const dynalite = useDynalite();
const proxies: DynamoDBProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

/** A fresh table behind a recording proxy, and the engine's options for a stage kept there. */
async function setup() {
  const server = await dynalite();
  const proxy = await startProxy(server.endpoint);
  proxies.push(proxy);
  const table = freshTable();
  const options = { ...testOptions(server, table), endpoint: proxy.endpoint };
  const { dir, remove } = tempDir("alchemy-dynamodb-engine-");
  const engine = (stage: string, phase?: "destroy") => ({
    stage, rootDir: dir, quiet: true, stateLocking: true, ...(phase ? { phase } : {}),
    stateStore: (scope: { chain: readonly string[] }) => new DynamoDBStateStore(scope, options),
  });
  /** The sort keys of every item of partition `pk`. */
  const keys = async (pk: string) => {
    const page = await separateClient(server).send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": { S: pk } } }));
    return (page.Items ?? []).map((item) => item.sk!.S!);
  };
  return { proxy, options, engine, keys, remove };
}

describe("the engine on a DynamoDBStateStore", () => {
  it("deploys nested scopes under the stage's lock, redeploys with no changes and destroys the stage, leaving other stages alone", async () => {
    const { options, engine, keys, remove } = await setup();
    const world = createWorld();
    const program = async (stage: string, phase?: "destroy") => {
      const app = await alchemy("app", engine(stage, phase));
      const network = await world.Thing("network", { value: "10.0.0.0/16" });
      await alchemy.run("backend", async () => {
        const db = await world.Thing("db", { uses: [network] });
        await alchemy.run("jobs", async () => void (await world.Thing("worker", { uses: [db], children: ["queue"] })));
      });
      await app.finalize();
    };
    try {
      await program("dev");
      await program("prod");
      const records = ["/:network", "/backend/:db", "/backend/jobs/:worker", "/backend/jobs/worker/:queue"];
      expect((await keys("app/dev")).filter((sk) => sk.startsWith("/")).sort()).toEqual([...records].sort());
      expect(await keys("app/dev")).toContain("~lock");
      expect(world.count("create")).toBe(8);

      world.reset();
      await program("dev");
      expect(world.calls).toEqual([]);

      await program("dev", "destroy");
      expect(world.count("delete")).toBe(4);
      expect(world.violations).toEqual([]);
      expect((await keys("app/dev")).filter((sk) => sk.startsWith("/"))).toEqual([]);
      expect((await keys("app/prod")).filter((sk) => sk.startsWith("/")).sort()).toEqual([...records].sort());
      expect(await new DynamoDBStateStore({ chain: ["app"] }, options).listScopes()).toEqual(["prod"]);
      expect(await new DynamoDBStateStore({ chain: [] }, options).listScopes()).toEqual(["app"]);
    } finally {
      remove();
    }
  });

  it("redeploys 600 unchanged resources with a few Queries and no GetItem or BatchGetItem per record", { timeout: 120_000 }, async () => {
    const { proxy, engine, remove } = await setup();
    const world = createWorld();
    const program = async () => {
      const app = await alchemy("app", engine("dev"));
      await Promise.all(Array.from({ length: 600 }, (_, i) => world.Thing(`r-${i}`, { value: i })));
      await app.finalize();
    };
    try {
      await program();
      expect(world.count("create")).toBe(600);
      world.reset();
      proxy.reset();
      await program();
      expect(world.calls).toEqual([]);
      const counts = Object.fromEntries([...new Set(proxy.operations)].map((op) => [op, proxy.count(op)]));
      console.log(`no-op redeploy of 600 resources: ${JSON.stringify(counts)}`);
      expect(proxy.count("GetItem")).toBeLessThan(10);
      expect(proxy.count("BatchGetItem")).toBeLessThan(10);
      expect(proxy.count("Query")).toBeLessThan(20);
    } finally {
      remove();
    }
  });
});
