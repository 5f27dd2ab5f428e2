import { describe, expect, it } from "vitest";
import { dynamoDBConnection } from "./dynamodb-connection.js";
import { separateClient, startDynalite } from "./dynamodb.test-fixture.js";

describe("DynamoDB connections", () => {
  it("are shared by stores with the same region, endpoint and credentials, and kept apart by another secret or a client of their own", async () => {
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "one" };
    const settings = { region: "eu-west-1", endpoint: "http://127.0.0.1:1", credentials };
    const shared = dynamoDBConnection(settings);
    expect(dynamoDBConnection({ ...settings, credentials: { ...credentials } })).toBe(shared);
    expect(dynamoDBConnection({ ...settings, credentials: { ...credentials, secretAccessKey: "two" } })).not.toBe(shared);
    expect(dynamoDBConnection({ ...settings, region: "us-east-1" })).not.toBe(shared);
    const server = await startDynalite();
    try {
      const client = separateClient(server);
      expect(dynamoDBConnection({ client })).toBe(dynamoDBConnection({ client }));
      expect(dynamoDBConnection({ client }).client).toBe(client);
      expect(dynamoDBConnection({ client: separateClient(server) })).not.toBe(dynamoDBConnection({ client }));
    } finally {
      await server.close();
    }
  });
});
