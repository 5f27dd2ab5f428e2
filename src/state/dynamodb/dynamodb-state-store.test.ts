import { randomBytes } from "node:crypto";
import { GetItemCommand, PutItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { DynamoDBStateStore, type DynamoDBStateStoreOptions } from "./dynamodb-state-store.js";
import { startProxy, type DynamoDBProxy } from "./dynamodb-proxy.test-fixture.js";
import { freshTable, record, separateClient, testOptions, useDynalite } from "./dynamodb.test-fixture.js";

const dynalite = useDynalite();
const STAGE = ["app", "dev"];
const proxies: DynamoDBProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

/** A fresh table reached through a recording proxy; stores on it; a client of its own to look at items. */
async function setup(extra: Partial<DynamoDBStateStoreOptions> = {}) {
  const server = await dynalite();
  const proxy = await startProxy(server.endpoint);
  proxies.push(proxy);
  const table = freshTable();
  const options = { ...testOptions(server, table), endpoint: proxy.endpoint, ...extra };
  const open = async (chain: readonly string[]) => {
    const store = new DynamoDBStateStore({ chain }, options);
    await store.init();
    return store;
  };
  const raw = separateClient(server);
  const item = async (pk: string, sk: string) => (await raw.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item;
  const put = (fields: Record<string, AttributeValue>) => raw.send(new PutItemCommand({ TableName: table, Item: fields }));
  return { proxy, table, open, item, put };
}

describe("DynamoDBStateStore", () => {
  it("keeps one item per record in the stage's partition: pk app/stage, sk the scope path below the stage and :id, the JSON in state", async () => {
    const { open, item } = await setup();
    const worker = record([...STAGE, "backend", "jobs"], "worker");
    await (await open(STAGE)).set("api", record(STAGE, "api"));
    await (await open([...STAGE, "backend", "jobs"])).set("worker", worker);
    await (await open(STAGE)).setStageMeta({ secrets: { salt: "c2FsdA==" } });
    const api = await item("app/dev", "/:api");
    expect(JSON.parse(api!.state!.S!)).toEqual(record(STAGE, "api"));
    expect(api!.fence).toEqual({ N: "0" }); // written without a lock
    expect(Number(api!.updatedAt!.N)).toBeGreaterThan(Date.now() - 60_000);
    expect(JSON.parse((await item("app/dev", "/backend/jobs/:worker"))!.state!.S!)).toEqual(worker);
    expect(JSON.parse((await item("app/dev", "~meta"))!.meta!.S!)).toEqual({ secrets: { salt: "c2FsdA==" } });
    expect(await item("~stages", "app/dev")).toBeDefined(); // the stage registry
  });

  it("reads a scope with Queries of its own records only, page after page past 1 MB, and never one GetItem per record", async () => {
    const { open, proxy } = await setup();
    const stage = await open(STAGE);
    const nested = await open([...STAGE, "backend"]);
    const ids = Array.from({ length: 40 }, (_, i) => `r-${String(i).padStart(2, "0")}`);
    const blob = "x".repeat(40_000); // 40 records of 40 KB: two pages at least
    await Promise.all(ids.map((id) => stage.set(id, record(STAGE, id, { data: { blob } }))));
    await nested.set("db", record([...STAGE, "backend"], "db"));
    await (await open([...STAGE, "backend", "inner"])).set("deep", record([...STAGE, "backend", "inner"], "deep"));
    proxy.reset();
    expect(Object.keys(await stage.all()).sort()).toEqual(ids);
    expect(proxy.count("Query")).toBeGreaterThanOrEqual(2);
    expect(proxy.count("GetItem")).toBe(0);
    expect((await stage.list()).sort()).toEqual(ids);
    expect(await stage.count()).toBe(40);
    expect(await nested.list()).toEqual(["db"]);
    expect(await nested.count()).toBe(1);
  });

  it("reads 250 ids with three BatchGetItem requests, skipping duplicates and ids that do not exist", async () => {
    const { open, proxy } = await setup();
    const stage = await open(STAGE);
    const ids = Array.from({ length: 250 }, (_, i) => `r-${i}`);
    await Promise.all(ids.map((id) => stage.set(id, record(STAGE, id, { seq: 7 }))));
    proxy.reset();
    const found = await stage.getBatch([...ids, "r-0", "missing"]);
    expect(Object.keys(found).sort()).toEqual([...ids].sort());
    expect(found["r-249"]).toEqual(record(STAGE, "r-249", { seq: 7 }));
    expect(proxy.count("BatchGetItem")).toBe(3);
    expect(proxy.count("GetItem")).toBe(0);
  });

  it("lists child scopes holding records, passing over a child's hundreds of records with a few small Queries", async () => {
    const { open, proxy } = await setup();
    const write = async (chain: string[], ids: string[]) => {
      const store = await open(chain);
      await Promise.all(ids.map((id) => store.set(id, record(chain, id))));
    };
    await write(STAGE, ["own-1", "own-2"]);
    await write([...STAGE, "big"], Array.from({ length: 300 }, (_, i) => `r-${i}`));
    await write([...STAGE, "big", "inner"], ["deep"]);
    await write([...STAGE, "a-1"], ["x"]);
    await write([...STAGE, "zeta"], ["x"]);
    await write([...STAGE, "数据"], ["x"]);
    proxy.reset();
    expect((await (await open(STAGE)).listScopes()).sort()).toEqual(["a-1", "big", "zeta", "数据"]);
    expect(proxy.count("Query")).toBeLessThanOrEqual(6);
    expect(await (await open([...STAGE, "big"])).listScopes()).toEqual(["inner"]);
    expect(await (await open(["app"])).listScopes()).toEqual(["dev"]);
    expect(await (await open([])).listScopes()).toEqual(["app"]);
  });

  it("stores a record whose JSON is over 64 KiB gzip'ed and reads it back; one still over 400 KB gzip'ed is refused, naming it, and nothing is written", async () => {
    const { open, item } = await setup();
    const stage = await open(STAGE);
    const big = record(STAGE, "big", { data: { blob: "abc".repeat(400_000) } }); // 1.2 MB of JSON
    await stage.set("big", big);
    const stored = await item("app/dev", "/:big");
    expect(stored!.state).toBeUndefined();
    expect(stored!.stateGz!.B!.length).toBeLessThan(50_000);
    expect(await stage.get("big")).toEqual(big);
    await stage.set("big", record(STAGE, "big"));
    expect(Object.keys((await item("app/dev", "/:big"))!).sort()).toEqual(["fence", "pk", "sk", "state", "updatedAt"]);

    const huge = record(STAGE, "huge", { output: { noise: randomBytes(450_000).toString("base64") } });
    const error = await stage.set("huge", huge).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toMatch(
      /^Refusing to write record "app\/dev\/huge" to dynamodb:\/\/state-[\d-]+ pk=app\/dev sk=\/:huge: its item would be [\d.]+ KB \(the record's JSON is [\d.]+ KB, [\d.]+ KB gzip'ed\), more than the 400 KB DynamoDB allows per item\. Nothing was written\./,
    );
    expect(await item("app/dev", "/:huge")).toBeUndefined();
  });

  it("reports an item that is not a readable record with a StateStoreError naming it and the commands that remove it, for get, all and getBatch, and changes nothing", async () => {
    const { open, put, item, table, proxy } = await setup();
    const stage = await open(STAGE);
    await stage.set("good", record(STAGE, "good"));
    const damaged: Array<[string, Record<string, AttributeValue>, RegExp]> = [
      ["bad-json", { state: { S: "{ not json" } }, /is not valid JSON/],
      ["no-body", { fence: { N: "0" } }, /has neither a string "state" nor a binary "stateGz" attribute/],
      ["bad-gz", { stateGz: { B: new Uint8Array([1, 2, 3]) } }, /holds a "stateGz" that is not gzip data/],
      ["other-fqn", { state: { S: JSON.stringify(record(["app", "prod"], "other-fqn")) } }, /holds fqn "app\/prod\/other-fqn" but is stored as "app\/dev\/other-fqn"/],
    ];
    for (const [id, fields, what] of damaged) {
      await put({ pk: { S: "app/dev" }, sk: { S: `/:${id}` }, ...fields });
      const command = `aws dynamodb delete-item --table-name ${table} --region us-east-1 --endpoint-url ${proxy.endpoint} --key '{"pk":{"S":"app/dev"},"sk":{"S":"/:${id}"}}'`;
      for (const read of [() => stage.get(id), () => stage.all(), () => stage.getBatch(["good", id])]) {
        const error = await read().then(() => undefined, (e: unknown) => e);
        expect(error, id).toBeInstanceOf(StateStoreError);
        expect((error as StateStoreError).location).toBe(`dynamodb://${table} pk=app/dev sk=/:${id}`);
        expect((error as Error).message, id).toMatch(what);
        expect((error as Error).message, id).toContain(`The record "app/dev/${id}" at dynamodb://${table} pk=app/dev sk=/:${id} `);
        expect((error as Error).message, id).toContain(`\`alchemy state rm app/dev/${id}\` or ${command}`);
      }
      expect(await item("app/dev", `/:${id}`), id).toMatchObject(fields);
      await stage.delete(id);
    }
    expect(await stage.all()).toEqual({ good: record(STAGE, "good") });
  });

  it("refuses records above a stage and metadata outside a stage's store before any request", async () => {
    const { open, proxy } = await setup();
    const app = await open(["app"]);
    proxy.reset();
    await expect(app.set("api", record(["app"], "api"))).rejects.toThrow(/records live in a stage or a scope below it/);
    await expect(app.getStageMeta()).rejects.toThrow(/stage metadata belongs to the store of a stage scope/);
    await expect(app.lock({ holder: { user: "u", host: "h", pid: 1, command: "c" }, leaseMs: 1_000, timeoutMs: 0 })).rejects.toThrow(
      /stage locks belong to the store of a stage scope \(app\/stage\)/,
    );
    expect(proxy.operations).toEqual([]);
  });
});
