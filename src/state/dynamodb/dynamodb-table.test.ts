import { CreateTableCommand, DescribeTableCommand, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { DynamoDBStateStore } from "./dynamodb-state-store.js";
import { startProxy, type DynamoDBProxy } from "./dynamodb-proxy.test-fixture.js";
import { freshTable, record, separateClient, testOptions, useDynalite } from "./dynamodb.test-fixture.js";

const dynalite = useDynalite();
const STAGE = ["app", "dev"];
const proxies: DynamoDBProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

describe("the DynamoDB state store's table", () => {
  it("is not created without createTable: a StateStoreError names it and gives the aws dynamodb create-table command with the store's key schema", async () => {
    const server = await dynalite();
    const table = freshTable();
    const store = new DynamoDBStateStore({ chain: STAGE }, testOptions(server, table, { createTable: false }));
    const error = await store.init().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).location).toBe(`dynamodb://${table}`);
    expect((error as Error).message).toBe(
      `The DynamoDB table "${table}" (region us-east-1, endpoint ${server.endpoint}) of the state store does not exist. Create it with:\n` +
        `  aws dynamodb create-table --table-name ${table} --attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=S ` +
        `--key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE --billing-mode PAY_PER_REQUEST --region us-east-1 --endpoint-url ${server.endpoint}\n` +
        `or let the store create it: pass createTable: true (in a store URL, dynamodb://${table}?createTable=true).`,
    );
    await expect(store.get("api")).rejects.toThrow(/does not exist\. Create it with/);
    const tables = await separateClient(server).send(new ListTablesCommand({}));
    expect(tables.TableNames).not.toContain(table);
  });

  it("is created with createTable, on demand capacity with string keys pk and sk, once for stores opened together", async () => {
    const server = await dynalite();
    const proxy = await startProxy(server.endpoint);
    proxies.push(proxy);
    const table = freshTable();
    const options = { ...testOptions(server, table), endpoint: proxy.endpoint };
    const stores = [STAGE, [...STAGE, "backend"], ["app", "prod"]].map((chain) => new DynamoDBStateStore({ chain }, options));
    await Promise.all(stores.map((store) => store.init()));
    expect(proxy.count("CreateTable")).toBe(1);
    const described = (await separateClient(server).send(new DescribeTableCommand({ TableName: table }))).Table!;
    expect(described.TableStatus).toBe("ACTIVE");
    expect(described.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    expect(described.KeySchema).toEqual([{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }]);
    await stores[0]!.set("api", record(STAGE, "api"));
    expect(await stores[0]!.get("api")).toEqual(record(STAGE, "api"));
  });

  it("is created once when two processes create it at the same moment: the one that loses waits for it", async () => {
    const server = await dynalite();
    const table = freshTable();
    const [a, b] = [separateClient(server), separateClient(server)].map((client) => new DynamoDBStateStore({ chain: STAGE }, testOptions(server, table, { client })));
    await Promise.all([a!.init(), b!.init()]);
    await a!.set("api", record(STAGE, "api"));
    expect(await b!.get("api")).toEqual(record(STAGE, "api"));
  });

  it("is refused, naming its key schema and the one the store needs, when it has other keys", async () => {
    const server = await dynalite();
    const table = freshTable();
    await separateClient(server).send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      }),
    );
    const error = await new DynamoDBStateStore({ chain: STAGE }, testOptions(server, table)).init().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toContain(`has the key schema id (HASH, S), but the state store needs a string partition key "pk" and a string sort key "sk"`);
    expect((error as Error).message).toContain(`aws dynamodb create-table --table-name ${table}-state `);
  });

  it("names the table and the endpoint when DynamoDB cannot be reached", async () => {
    const table = freshTable();
    const store = new DynamoDBStateStore({ chain: STAGE }, { ...testOptions(await dynalite(), table), endpoint: "http://127.0.0.1:9" });
    const error = await store.init().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toMatch(
      new RegExp(`^Could not reach DynamoDB \\(table "${table}", region us-east-1, endpoint http://127\\.0\\.0\\.1:9\\) to look up the table: .*ECONNREFUSED`),
    );
    expect((error as Error).message).toContain("Check the network and that http://127.0.0.1:9 serves DynamoDB");
  });

  it("says how to give credentials when the AWS SDK's default chain finds none", async () => {
    const server = await dynalite();
    const saved = { ...process.env };
    // Nothing in the environment, no shared files, no instance metadata: the chain comes up empty.
    for (const name of Object.keys(process.env)) if (name.startsWith("AWS_") && name !== "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED") delete process.env[name];
    // Nor an alchemy profile with an aws section.
    Object.assign(process.env, { AWS_CONFIG_FILE: "/nonexistent/config", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials", AWS_EC2_METADATA_DISABLED: "true", ALCHEMY_HOME: "/nonexistent/alchemy-home" });
    try {
      const table = freshTable();
      const store = new DynamoDBStateStore({ chain: STAGE }, { table, region: "us-east-1", endpoint: server.endpoint });
      const error = await store.init().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as Error).message).toBe(
        `Found no AWS credentials for the state store (DynamoDB table "${table}", region us-east-1, endpoint ${server.endpoint}) to look up the table: ` +
          "Could not load credentials from any providers. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile of ~/.aws/config; " +
          "or give the alchemy profile an access key: `alchemy profile set default aws.accessKeyId=... aws.secretAccessKey=-`; or pass credentials to DynamoDBStateStore.",
      );
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  it("refuses a name DynamoDB would refuse, and a client given with region, endpoint, credentials or profile, before any request", () => {
    for (const table of ["ab", "has space", "a/b", "x".repeat(256)]) {
      expect(() => new DynamoDBStateStore({ chain: STAGE }, { table }), table).toThrow(/is not a DynamoDB table name: use 3-255 letters, digits, "_", "-" and "\."/);
    }
    expect(() => new DynamoDBStateStore({ chain: STAGE }, { table: "state", endpoint: "localhost:8000" })).toThrow(/is not an http\(s\) URL/);
    expect(() => new DynamoDBStateStore({ chain: STAGE }, { table: "state", client: {} as never, region: "us-east-1" })).toThrow(
      /got a client and region: configure the client instead, or pass no client/,
    );
    expect(() => new DynamoDBStateStore({ chain: STAGE, profile: "ci" }, { table: "state", client: {} as never, profile: "ci" })).toThrow(/got a client and profile: configure the client instead/);
    expect(new DynamoDBStateStore({ chain: STAGE, profile: "ci" }, { table: "state", client: {} as never })).toBeInstanceOf(DynamoDBStateStore); // the run's profile is for stores without a client
  });
});
