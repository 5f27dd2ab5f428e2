import { describeStageLock } from "../../testing/stage-lock-conformance.js";
import { describeStateStore } from "../../testing/state-store-conformance.js";
import { DynamoDBStateStore } from "./dynamodb-state-store.js";
import { freshTable, separateClient, testOptions, useDynalite } from "./dynamodb.test-fixture.js";

const dynalite = useDynalite();

describeStateStore("DynamoDBStateStore", async () => {
  const options = testOptions(await dynalite(), freshTable());
  return {
    factory: (scope) => new DynamoDBStateStore(scope, options),
    reopen: () => (scope) => new DynamoDBStateStore(scope, options),
  };
});

// Each contender gets a client of its own, hence its own fences, as separate processes would.
describeStageLock("DynamoDBStateStore", async () => {
  const server = await dynalite();
  const table = freshTable();
  return {
    factory: (scope) => new DynamoDBStateStore(scope, testOptions(server, table)),
    reopen: () => {
      const client = separateClient(server);
      return (scope) => new DynamoDBStateStore(scope, testOptions(server, table, { client }));
    },
    fencesPerFactory: true,
  };
});
