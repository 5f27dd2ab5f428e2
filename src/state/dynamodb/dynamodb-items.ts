/**
 * The items the DynamoDB state store writes for records and stage metadata,
 * and how it reads records back.
 *
 * A record item holds the record's JSON (`stateJson`, the checks of every
 * store) in `state`, or, once the JSON is larger than 64 KiB, gzip'ed in
 * the binary `stateGz` (DynamoDB bills by size and refuses items over
 * 400 KB; JSON compresses well). `fence` is the fencing token of the lock
 * its writer held (0 when written without a lock), `updatedAt` the writer's
 * clock at the write, in epoch ms.
 *
 * Every write is an UpdateItem that keeps `fence` from going down: a
 * holder of token T writes with the condition
 * `attribute_not_exists(fence) OR fence <= T` and sets `fence = T`; a write
 * without a lock keeps the item's `fence` as it is. Deletes by a holder
 * carry the same condition.
 *
 * @module
 */
import { promisify } from "node:util";
import { gunzip as gunzipCallback, gzip as gzipCallback } from "node:zlib";
import type { AttributeValue, DeleteItemCommandInput, UpdateItemCommandInput } from "@aws-sdk/client-dynamodb";
import { StateStoreError } from "../../core/errors.js";
import { assertWritableState, parseStateText, stateJson } from "../state-record.js";
import type { State } from "../state-store.js";
import type { DynamoDBKeys } from "./dynamodb-layout.js";
import type { Item } from "./dynamodb-table.js";

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** Records whose JSON is larger are stored gzip'ed. */
export const COMPRESS_ABOVE_BYTES = 64 * 1024;
/** DynamoDB's limit on an item: names and values of all its attributes. */
export const MAX_ITEM_BYTES = 400 * 1024;

/** An UpdateItem or DeleteItem without its table. */
export type ItemUpdate = Omit<UpdateItemCommandInput, "TableName">;
export type ItemDelete = Omit<DeleteItemCommandInput, "TableName">;

/**
 * The UpdateItem that writes `set` (attribute name to value) to item
 * (pk, sk) and removes the attributes `remove`: fenced by `token` when the
 * writer holds the stage's lock, else keeping the item's fence.
 */
export function itemUpdate(pk: string, sk: string, set: Record<string, AttributeValue>, remove: string[], token: number | undefined): ItemUpdate {
  const names: Record<string, string> = { "#fence": "fence", "#updatedAt": "updatedAt" };
  const values: Record<string, AttributeValue> = { ":now": { N: String(Date.now()) } };
  const assignments = Object.entries(set).map(([name, value], i) => {
    names[`#s${i}`] = name;
    values[`:s${i}`] = value;
    return `#s${i} = :s${i}`;
  });
  if (token === undefined) {
    values[":zero"] = { N: "0" };
    assignments.push("#updatedAt = :now", "#fence = if_not_exists(#fence, :zero)");
  } else {
    values[":token"] = { N: String(token) };
    assignments.push("#updatedAt = :now", "#fence = :token");
  }
  remove.forEach((name, i) => (names[`#r${i}`] = name));
  return {
    Key: { pk: { S: pk }, sk: { S: sk } },
    UpdateExpression: `SET ${assignments.join(", ")}${remove.length > 0 ? ` REMOVE ${remove.map((_, i) => `#r${i}`).join(", ")}` : ""}`,
    ConditionExpression: token === undefined ? undefined : "attribute_not_exists(#fence) OR #fence <= :token",
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** The DeleteItem of item (pk, sk), fenced by `token` when the writer holds the stage's lock. */
export function itemDelete(pk: string, sk: string, token: number | undefined): ItemDelete {
  if (token === undefined) return { Key: { pk: { S: pk }, sk: { S: sk } } };
  return {
    Key: { pk: { S: pk }, sk: { S: sk } },
    ConditionExpression: "attribute_not_exists(#fence) OR #fence <= :token",
    ExpressionAttributeNames: { "#fence": "fence" },
    ExpressionAttributeValues: { ":token": { N: String(token) } },
  };
}

/**
 * The write of record `id` of the scope `keys`, for a given fencing token:
 * checked like every store's (`assertWritableState`), gzip'ed when large.
 *
 * @throws StateStoreError when the record is not a valid State, cannot be JSON, or its item would exceed 400 KB even gzip'ed.
 * @example
 * const write = await recordWrite(keys, "api", state);
 * await table.send("write record", location, (sdk) => new sdk.UpdateItemCommand({ TableName, ...write(token) }));
 */
export async function recordWrite(keys: DynamoDBKeys, id: string, state: State): Promise<(token: number | undefined) => ItemUpdate> {
  const sk = keys.recordSk(id);
  const location = keys.location(sk);
  const fqn = `${keys.chain.join("/")}/${id}`;
  assertWritableState(state, id, location, fqn);
  const json = stateJson(state, location);
  const jsonBytes = Buffer.byteLength(json, "utf8");
  const compressed = jsonBytes > COMPRESS_ABOVE_BYTES ? await gzip(json) : undefined;
  const body: Record<string, AttributeValue> = compressed ? { stateGz: { B: compressed } } : { state: { S: json } };
  const bytes = itemBytes(keys.pk!, sk, body);
  if (bytes > MAX_ITEM_BYTES) {
    throw new StateStoreError(
      `Refusing to write record "${fqn}" to ${location}: its item would be ${kb(bytes)} (the record's JSON is ${kb(jsonBytes)}, ${kb(compressed?.length ?? jsonBytes)} gzip'ed), ` +
        `more than the 400 KB DynamoDB allows per item. Nothing was written. Keep large values out of the resource's props, output and data ` +
        `(store them elsewhere and keep a reference), or keep this stage in a store without the limit (file, sqlite or postgres).`,
      location,
    );
  }
  return (token) => itemUpdate(keys.pk!, sk, body, [compressed ? "state" : "stateGz"], token);
}

/**
 * The size DynamoDB counts for an item (pk, sk) holding `body` plus the
 * store's `fence` and `updatedAt`: UTF-8 bytes of names and string values,
 * bytes of binary values, and at most 21 bytes per number.
 */
export function itemBytes(pk: string, sk: string, body: Record<string, AttributeValue>): number {
  let bytes = 2 + Buffer.byteLength(pk, "utf8") + 2 + Buffer.byteLength(sk, "utf8") + "fence".length + 21 + "updatedAt".length + 21;
  for (const [name, value] of Object.entries(body)) {
    bytes += Buffer.byteLength(name, "utf8") + (value.S !== undefined ? Buffer.byteLength(value.S, "utf8") : value.B !== undefined ? value.B.length : 21);
  }
  return bytes;
}

/**
 * The record `id` of the scope `keys` that `item` holds.
 *
 * @param cli the options pointing the AWS CLI at the table, for the fix in messages
 * @throws StateStoreError naming the item, what is wrong and how to fix it, when it is not a readable record.
 */
export async function readRecordItem(item: Item, keys: DynamoDBKeys, id: string, cli: string): Promise<State> {
  const sk = keys.recordSk(id);
  const fqn = `${keys.chain.join("/")}/${id}`;
  const corrupt = (what: string, cause?: unknown) =>
    new StateStoreError(
      `The record "${fqn}" at ${keys.location(sk)} ${what}. Nothing was changed. Restore the item from a backup ` +
        `(point-in-time recovery, if the table has it), or remove the record with \`alchemy state rm ${fqn}\` or ` +
        `${keys.deleteCommand(sk, cli)} (the resource it describes is then no longer tracked).`,
      keys.location(sk),
      cause === undefined ? undefined : { cause },
    );
  let text: string;
  if (typeof item.state?.S === "string") text = item.state.S;
  else if (item.stateGz?.B !== undefined) {
    try {
      text = (await gunzip(item.stateGz.B)).toString("utf8");
    } catch (error) {
      throw corrupt(`holds a "stateGz" that is not gzip data (${(error as Error).message})`, error);
    }
  } else throw corrupt(`has neither a string "state" nor a binary "stateGz" attribute`);
  return parseStateText(text, id, fqn, corrupt);
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}
