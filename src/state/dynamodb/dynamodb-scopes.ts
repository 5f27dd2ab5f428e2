/**
 * Listing the direct child scopes of a scope in a stage's partition, where
 * DynamoDB has no delimiter to group keys by (S3's `delimiter=/`): the
 * Query walks the keys below the scope in order, a page of a few keys at a
 * time, and after each page jumps past every key of the last child seen
 * (`afterChild`) or past the scope's own records (`afterRecords`). A scope
 * with thousands of records below one child costs one small Query for that
 * child, not thousands of keys read.
 *
 * @module
 */
import type { DynamoDBKeys } from "./dynamodb-layout.js";
import type { DynamoDBTable } from "./dynamodb-table.js";

/** Keys read per Query; a child shows up after at most this many keys of the one before it. */
const KEYS_PER_PAGE = 50;
/** Above every character a name can hold (the last code point), so `prefix + LAST` ends the prefix's keys. */
const LAST = "\u{10FFFF}";

/**
 * The names of the child scopes of `keys`'s scope that hold at least one
 * record, in key order (only records have keys below a scope, see `dynamodb-layout.ts`).
 *
 * @example
 * await listChildScopes(table, new DynamoDBKeys("state", ["app", "dev"])); // ["backend", "frontend"]
 */
export async function listChildScopes(table: DynamoDBTable, keys: DynamoDBKeys): Promise<string[]> {
  const names: string[] = [];
  let from = keys.scopePrefix;
  for (;;) {
    const page = await table.send("list child scopes", keys.location(), (sdk) =>
      new sdk.QueryCommand({
        TableName: table.name,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: { ":pk": { S: keys.pk! }, ":from": { S: from }, ":to": { S: keys.scopePrefix + LAST } },
        ProjectionExpression: "sk",
        ConsistentRead: true,
        Limit: KEYS_PER_PAGE,
      }),
    );
    let last: string | undefined;
    for (const item of page.Items ?? []) {
      last = item.sk?.S ?? last;
      const child = last === undefined ? undefined : keys.childOf(last);
      if (child !== undefined && names.at(-1) !== child) names.push(child);
    }
    if (page.LastEvaluatedKey === undefined) return names;
    last ??= page.LastEvaluatedKey.sk?.S;
    if (last === undefined) return names;
    const child = keys.childOf(last);
    from = child !== undefined ? keys.afterChild(child) : keys.afterRecords;
  }
}
