/**
 * A stage's history in the DynamoDB state store, in the stage's partition:
 *
 * - an entry: sk `~history/<run>`, attributes `entry` (its JSON text) and
 *   `parts` (how many items its snapshot takes);
 * - its snapshot: sk `~snapshot/<run>/<n>` for n = 0..parts-1, attribute
 *   `bytes` (binary), each at most {@link PART_BYTES}, as an item holds
 *   at most 400 KB.
 *
 * The snapshot's items are written first and the entry last, so an entry
 * exists once its item does; deletion goes the other way. Each write is
 * fenced like a record write. `~` keys are never listed as records (see
 * `dynamodb-layout.ts`). Listing is one Query of `~history/` keys, newest
 * first, stopped at the limit.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { historyEntryText, parseHistoryEntry } from "../history-items.js";
import type { HistoryItem, HistoryListing } from "../state-store.js";
import { itemBytes, itemDelete, itemUpdate, MAX_ITEM_BYTES, type ItemDelete, type ItemUpdate } from "./dynamodb-items.js";
import type { DynamoDBKeys } from "./dynamodb-layout.js";
import type { DynamoDBTable } from "./dynamodb-table.js";

/** Bytes of a snapshot per item: well under the 400 KB an item may hold. */
export const PART_BYTES = 350 * 1024;
const ENTRY_SK = "~history/";
const SNAPSHOT_SK = "~snapshot/";

/** A fenced write of one item of the stage, as the store makes it. */
export type FencedWrite = (doing: string, location: string, make: (token: number | undefined) => { update?: ItemUpdate; remove?: ItemDelete }) => Promise<void>;

/** The history of the stage whose keys are `keys` (a stage scope's). */
export class DynamoDBHistory {
  constructor(
    private readonly keys: DynamoDBKeys,
    private readonly table: () => Promise<DynamoDBTable>,
    private readonly fenced: FencedWrite,
  ) {}

  /** Writes `item`: its snapshot's parts, then its entry. */
  async append(item: HistoryItem): Promise<void> {
    const pk = this.keys.pk!;
    const sk = ENTRY_SK + item.run;
    const location = this.keys.location(sk);
    const entry = { entry: { S: historyEntryText(item, location) } };
    if (itemBytes(pk, sk, entry) + 30 > MAX_ITEM_BYTES) {
      throw new StateStoreError(`Refusing to write the history entry at ${location}: it is larger than the 400 KB DynamoDB allows per item (a run that changed very many resources). Nothing was written.`, location);
    }
    const parts = Math.max(1, Math.ceil(item.snapshot.length / PART_BYTES));
    for (let n = 0; n < parts; n++) {
      const bytes = item.snapshot.subarray(n * PART_BYTES, (n + 1) * PART_BYTES);
      const partSk = `${SNAPSHOT_SK}${item.run}/${n}`;
      await this.fenced("write a history snapshot", this.keys.location(partSk), (token) => ({ update: itemUpdate(pk, partSk, { bytes: { B: bytes } }, [], token) }));
    }
    await this.fenced("write a history entry", location, (token) => ({ update: itemUpdate(pk, sk, { ...entry, parts: { N: String(parts) } }, [], token) }));
  }

  /** The entries, newest first, at most `limit`. */
  async list(limit?: number): Promise<HistoryListing[]> {
    if (limit !== undefined && limit <= 0) return [];
    const table = await this.table();
    const found: HistoryListing[] = [];
    const pages = table.query("list the stage's history", this.keys.location(ENTRY_SK), {
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": { S: this.keys.pk! }, ":prefix": { S: ENTRY_SK } },
      ScanIndexForward: false,
      ...(limit === undefined ? {} : { Limit: limit }),
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const sk = item.sk!.S!;
        found.push(parseHistoryEntry(sk.slice(ENTRY_SK.length), item.entry?.S ?? null, this.keys.location(sk)));
        if (limit !== undefined && found.length >= limit) return found;
      }
    }
    return found;
  }

  /** The snapshot of entry `run`, or `undefined` when there is no such entry. */
  async snapshot(run: string): Promise<Uint8Array | undefined> {
    const table = await this.table();
    const sk = ENTRY_SK + run;
    const answer = await table.send("read a history entry", this.keys.location(sk), (sdk) =>
      new sdk.GetItemCommand({ TableName: table.name, Key: { pk: { S: this.keys.pk! }, sk: { S: sk } }, ConsistentRead: true }),
    );
    if (answer.Item === undefined) return undefined;
    const parts = Number(answer.Item.parts?.N ?? "1");
    const chunks: Uint8Array[] = [];
    for (let n = 0; n < parts; n++) {
      const partSk = `${SNAPSHOT_SK}${run}/${n}`;
      const part = await table.send("read a history snapshot", this.keys.location(partSk), (sdk) =>
        new sdk.GetItemCommand({ TableName: table.name, Key: { pk: { S: this.keys.pk! }, sk: { S: partSk } }, ConsistentRead: true }),
      );
      const bytes = part.Item?.bytes?.B;
      if (bytes === undefined) {
        throw new StateStoreError(`The history entry ${this.keys.location(sk)} lacks part ${n} of its snapshot. Restore it from a backup, or remove the entry.`, this.keys.location(partSk));
      }
      chunks.push(bytes);
    }
    return new Uint8Array(Buffer.concat(chunks));
  }

  /** Removes the entries `runs`: each entry, then its snapshot's parts. */
  async delete(runs: string[]): Promise<void> {
    const pk = this.keys.pk!;
    const table = await this.table();
    for (const run of runs) {
      const sk = ENTRY_SK + run;
      await this.fenced("delete a history entry", this.keys.location(sk), (token) => ({ remove: itemDelete(pk, sk, token) }));
      const parts: string[] = [];
      for await (const page of table.query("list a history snapshot", this.keys.location(`${SNAPSHOT_SK}${run}/`), {
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": { S: pk }, ":prefix": { S: `${SNAPSHOT_SK}${run}/` } },
        ProjectionExpression: "sk",
      })) {
        for (const item of page.Items ?? []) parts.push(item.sk!.S!);
      }
      for (const partSk of parts) await this.fenced("delete a history snapshot", this.keys.location(partSk), (token) => ({ remove: itemDelete(pk, partSk, token) }));
    }
  }
}
