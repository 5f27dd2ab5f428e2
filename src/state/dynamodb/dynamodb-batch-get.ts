/**
 * Reading many items of one partition by key: BatchGetItem, 100 keys per
 * request (DynamoDB's limit), strongly consistent, with the keys DynamoDB
 * leaves unprocessed (throttling, or more than 16 MB in one answer) asked
 * for again after a growing pause.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import type { DynamoDBTable, Item } from "./dynamodb-table.js";

/** DynamoDB's limit on the keys of one BatchGetItem. */
const KEYS_PER_REQUEST = 100;
/** Rounds of unprocessed keys before giving up. */
const MAX_ROUNDS = 10;

/**
 * The items among sort keys `sks` of partition `pk` that exist, by sort key.
 *
 * @throws StateStoreError when DynamoDB keeps leaving keys unprocessed.
 * @example
 * const found = await batchGet(table, "app/dev", ["/:api", "/:web"], "read records", "dynamodb://state pk=app/dev");
 */
export async function batchGet(table: DynamoDBTable, pk: string, sks: string[], doing: string, location: string): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  const unique = [...new Set(sks)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += KEYS_PER_REQUEST) chunks.push(unique.slice(i, i + KEYS_PER_REQUEST));
  await Promise.all(chunks.map((chunk) => readChunk(table, pk, chunk, found, doing, location)));
  return found;
}

async function readChunk(table: DynamoDBTable, pk: string, sks: string[], found: Map<string, Item>, doing: string, location: string): Promise<void> {
  let keys = sks.map((sk) => ({ pk: { S: pk }, sk: { S: sk } }));
  for (let round = 0; keys.length > 0; round++) {
    if (round === MAX_ROUNDS) {
      throw new StateStoreError(
        `DynamoDB left ${keys.length} of ${sks.length} keys unprocessed ${MAX_ROUNDS} times in a row while the state store tried to ${doing} ` +
          `in table "${table.name}" (the table is throttled). Run again; if it persists, switch the table to on-demand capacity or raise its read capacity.`,
        location,
      );
    }
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** round, 2_000) * (0.5 + Math.random())));
    const answer = await table.send(doing, location, (sdk) => new sdk.BatchGetItemCommand({ RequestItems: { [table.name]: { Keys: keys, ConsistentRead: true } } }));
    for (const item of answer.Responses?.[table.name] ?? []) if (item.sk?.S !== undefined) found.set(item.sk.S, item);
    keys = (answer.UnprocessedKeys?.[table.name]?.Keys ?? []) as typeof keys;
  }
}
