/**
 * The stage registry: which stages the table holds, for `listScopes` of an
 * application (its stages) and of the root (the applications).
 *
 * A stage's records share one partition, `<app>/<stage>`, and DynamoDB
 * cannot list partitions without a Scan of the whole table. So before its
 * first record write to a stage, a process puts the item
 * (pk `~stages`, sk `<app>/<stage>`): idempotent, once per process and
 * stage. Entries are never removed (another process may be about to write
 * to the stage): an entry only says where to look, and a stage counts as
 * holding records only when a Query of its partition finds one.
 *
 * @module
 */
import { stageKey } from "./dynamodb-connection.js";
import { itemLocation, REGISTRY_PK } from "./dynamodb-layout.js";
import type { DynamoDBTable } from "./dynamodb-table.js";

/**
 * Enters the stage `pk` (`app/stage`) in the registry, once per connection.
 *
 * @example
 * await registerStage(table, "my-app/dev"); // before the first record write
 */
export function registerStage(table: DynamoDBTable, pk: string): Promise<void> {
  const registered = table.connection.registered;
  const key = stageKey(table.name, pk);
  let entry = registered.get(key);
  if (entry === undefined) {
    entry = table
      .send(`enter stage "${pk}" in the stage registry`, itemLocation(table.name, REGISTRY_PK, pk), (sdk) =>
        new sdk.PutItemCommand({ TableName: table.name, Item: { pk: { S: REGISTRY_PK }, sk: { S: pk } } }),
      )
      .then(() => undefined);
    registered.set(key, entry);
    entry.catch(() => registered.get(key) === entry && registered.delete(key)); // try again with the next write
  }
  return entry;
}

/**
 * The stages (`app/stage`) the registry names, of application `app` or of every application.
 *
 * @example
 * await registeredStages(table, "my-app"); // ["my-app/dev", "my-app/prod"]
 */
export async function registeredStages(table: DynamoDBTable, app?: string): Promise<string[]> {
  const stages: string[] = [];
  const prefix = app === undefined ? undefined : `${app}/`;
  const pages = table.query("list the stages", itemLocation(table.name, REGISTRY_PK), {
    KeyConditionExpression: prefix === undefined ? "pk = :pk" : "pk = :pk AND begins_with(sk, :prefix)",
    ExpressionAttributeValues: { ":pk": { S: REGISTRY_PK }, ...(prefix !== undefined && { ":prefix": { S: prefix } }) },
  });
  for await (const page of pages) for (const item of page.Items ?? []) if (item.sk?.S !== undefined) stages.push(item.sk.S);
  return stages;
}

/** Whether the stage `pk` holds at least one record (in any of its scopes). */
export async function holdsRecords(table: DynamoDBTable, pk: string): Promise<boolean> {
  const answer = await table.send("look for records", itemLocation(table.name, pk), (sdk) =>
    new sdk.QueryCommand({
      TableName: table.name,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :records)",
      ExpressionAttributeValues: { ":pk": { S: pk }, ":records": { S: "/" } },
      ProjectionExpression: "sk",
      ConsistentRead: true,
      Limit: 1,
    }),
  );
  return (answer.Items?.length ?? 0) > 0;
}
