/**
 * A state store in one DynamoDB table: one item per record, one partition per
 * stage (pk `<app>/<stage>`, sk the scope path below the stage plus the id;
 * see `dynamodb-layout.ts`), the stage's lock and metadata as two more items
 * of the partition, and a registry of stages (`dynamodb-stage-registry.ts`).
 * Every read is strongly consistent.
 *
 * What is atomic, and what is not:
 * - Each `set`, `delete`, `setStageMeta` and `deleteStageMeta` is ONE
 *   UpdateItem or DeleteItem of one item: DynamoDB applies it whole, a read
 *   sees the old item or the new one, and it is durable once DynamoDB
 *   answered. (A process's first `set` to a stage is preceded by a PutItem
 *   of the stage's registry entry, which only says where to look.)
 * - Each change of the stage's lock item is ONE conditional write: of any
 *   number of contenders exactly one wins (`dynamodb-stage-lock.ts`).
 * - Fenced atomically, by the item's own condition: a write or delete of a
 *   lock holder with fencing token T (+1 per acquisition of the stage's
 *   lock) carries `attribute_not_exists(fence) OR fence <= T` and sets
 *   `fence = T`. So once a holder has written an item, no holder of an
 *   earlier lock changes or deletes that item any more, whatever the
 *   clocks say: its write fails with a `LockLostError` naming the holder
 *   now, and every later write of that run is refused.
 * - NOT fenced atomically: a write of an earlier holder to an item the
 *   later holder has not written (a record it has not touched yet, a new
 *   record, or one it deleted: a delete leaves no item to carry its token).
 *   DynamoDB cannot make a write conditional on another item without
 *   TransactWriteItems, which this store does not use. What closes that
 *   window is the lease: a contender takes the lock over only once its
 *   `heartbeatAt` is older than the lease BY THE CONTENDER'S CLOCK, while
 *   the holder stops writing (checked before each write and before every
 *   attempt the SDK makes, retries included) once the lease MINUS A MARGIN
 *   has passed since the start of its last successful heartbeat, by its own
 *   monotonic clock. The margin is `leaseSafetyMarginMs(lease)` =
 *   min(lease / 5, 10 s): 6 s for a 30 s lease. So such a write lands after
 *   a takeover only if the two machines' clocks differ, plus the time the
 *   request spends between leaving this process and DynamoDB applying it,
 *   by more than that margin. A takeover the lease cannot explain
 *   (`alchemy unlock` of a live run) is caught at the old holder's next
 *   heartbeat (every third of the lease), or at once by its first write to
 *   an item the new holder wrote.
 * - Not fenced at all: writes of a process that does not hold the stage's
 *   lock (`stateLocking: false`, `alchemy state rm`). Such a write keeps
 *   the item's token, so it does not open the item to earlier holders
 *   (such a delete removes the item, token and all).
 * - NOT atomic: anything spanning items. Two `set`s are two writes; `all`,
 *   `list` and `count` are Queries (paginated, 1 MB a page), not a snapshot
 *   of a scope another process is writing.
 * - One region: conditional writes are atomic within the region a client
 *   talks to. A global table written in several regions replicates
 *   last-writer-wins, and two runs in two regions could both take a lock:
 *   point every run at one region.
 *
 * Limits: an item holds at most 400 KB. A record's JSON over 64 KiB is
 * stored gzip'ed; one still over the limit is refused, naming the record.
 * Reading a scope takes one Query per 1 MB of its records; `getBatch`, one
 * BatchGetItem per 100 ids; the table is never scanned.
 *
 * @module
 */
import type { DynamoDBClient, QueryCommandOutput } from "@aws-sdk/client-dynamodb";
import { StateStoreError } from "../../core/errors.js";
import { assertValidName, type NameKind } from "../../core/names.js";
import type { LockInfo, LockRequest, StageLock, StageLocking } from "../stage-lock.js";
import { notAStageStore, parseStageMeta, stageMetaText } from "../stage-meta.js";
import { putEntry } from "../state-record.js";
import type { HistoryItem, HistoryListing, StageMeta, State, StateStore, StateStoreScope } from "../state-store.js";
import { assertHistoryRun, notAStageHistory } from "../history-items.js";
import { DynamoDBHistory } from "./dynamodb-history.js";
import { batchGet } from "./dynamodb-batch-get.js";
import { dynamoDBConnection, stageKey, type StaticCredentials } from "./dynamodb-connection.js";
import { awsSettings } from "./dynamodb-credentials.js";
import { itemBytes, itemDelete, itemUpdate, MAX_ITEM_BYTES, readRecordItem, recordWrite, type ItemDelete, type ItemUpdate } from "./dynamodb-items.js";
import { DynamoDBKeys, META_SK } from "./dynamodb-layout.js";
import { listChildScopes } from "./dynamodb-scopes.js";
import { DynamoDBStageLock } from "./dynamodb-stage-lock.js";
import { holdsRecords, registeredStages, registerStage } from "./dynamodb-stage-registry.js";
import { DynamoDBTable, type Item } from "./dynamodb-table.js";

/** Options of {@link DynamoDBStateStore}. */
export interface DynamoDBStateStoreOptions {
  /** The table (3-255 letters, digits, `_`, `-`, `.`): string partition key `pk`, string sort key `sk`. */
  table: string;
  /**
   * The AWS region of the table.
   * @default the profile's aws.region, else AWS_REGION, else AWS_DEFAULT_REGION, else the SDK's (the region of AWS_PROFILE in ~/.aws/config)
   */
  region?: string;
  /**
   * Another endpoint than AWS's, e.g. DynamoDB Local.
   * @example "http://localhost:8000"
   */
  endpoint?: string;
  /**
   * Fixed credentials.
   * @default the profile's aws section (accessKeyId, secretAccessKey, sessionToken), else the AWS SDK's default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, SSO, container and instance roles
   */
  credentials?: StaticCredentials;
  /**
   * The alchemy profile whose `aws` section gives credentials and region.
   * @default the run's profile (`--profile`), else process.env.ALCHEMY_PROFILE ?? "default"
   */
  profile?: string;
  /**
   * A client of your own (other credentials providers, retries, HTTP
   * settings), instead of region, endpoint, credentials and profile. Stores given the
   * same client share its stage locks' fences, as stores of one run do.
   * @default a client per region, endpoint and credentials, shared by the process's stores
   */
  client?: DynamoDBClient;
  /**
   * Create the table (on-demand capacity) when it does not exist, and wait until it is ACTIVE.
   * @default false: a missing table is an error giving the `aws dynamodb create-table` command
   */
  createTable?: boolean;
}

/**
 * A {@link StateStore} keeping each record as an item of a DynamoDB table,
 * and locking stages with a lock item changed by conditional writes
 * ({@link StageLocking}). See the module comment for what is atomic and
 * what is not. `@aws-sdk/client-dynamodb` must be installed (an optional
 * peer dependency); it is loaded on first use, not by the constructor, and
 * so are region and credentials looked up: the options, else the profile's
 * `aws` section, else the environment and the AWS SDK's default chain
 * (`dynamodb-credentials.ts`).
 *
 * @example
 * import { DynamoDBStateStore } from "alchemy/state/dynamodb";
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new DynamoDBStateStore(scope, { table: "alchemy-state", region: "eu-west-1" }),
 * });
 */
export class DynamoDBStateStore implements StateStore, StageLocking {
  readonly #keys: DynamoDBKeys;
  readonly #options: DynamoDBStateStoreOptions;
  readonly #profile: string;
  #table: DynamoDBTable | undefined;

  /**
   * @throws ScopeError when a segment of `scope.chain` is not a valid name.
   * @throws StateStoreError when `table` is not a DynamoDB table name, `endpoint` is not an http(s) URL, or `client` comes with region, endpoint or credentials.
   */
  constructor(scope: StateStoreScope, options: DynamoDBStateStoreOptions) {
    const chain = [...scope.chain];
    const kinds: NameKind[] = ["application", "stage"];
    chain.forEach((name, i) => assertValidName(name, kinds[i] ?? "scope", chain.slice(0, i).join("/") || "/"));
    const { table, endpoint, client } = options;
    const where = `dynamodb://${String(table)}`;
    if (typeof table !== "string" || !/^[A-Za-z0-9_.-]{3,255}$/.test(table)) {
      throw new StateStoreError(`${JSON.stringify(table)} is not a DynamoDB table name: use 3-255 letters, digits, "_", "-" and ".".`, where);
    }
    if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
      throw new StateStoreError(`The DynamoDB endpoint ${JSON.stringify(endpoint)} is not an http(s) URL, e.g. "http://localhost:8000".`, where);
    }
    const alongside = (["region", "endpoint", "credentials", "profile"] as const).filter((name) => options[name] !== undefined);
    if (client !== undefined && alongside.length > 0) {
      throw new StateStoreError(`The DynamoDB state store got a client and ${alongside.join(", ")}: configure the client instead, or pass no client.`, where);
    }
    this.#keys = new DynamoDBKeys(table, chain);
    this.#options = { ...options };
    this.#profile = options.profile ?? scope.profile ?? process.env.ALCHEMY_PROFILE ?? "default";
  }

  /** Finds the table (creating it with `createTable`) and checks its key schema; reports a missing table or credentials here rather than at the first write. */
  async init(): Promise<void> {
    await this.#ready();
  }

  async get(id: string): Promise<State | undefined> {
    this.#checkId(id);
    const pk = this.#keys.pk;
    if (pk === undefined) return undefined;
    const table = await this.#ready();
    const sk = this.#keys.recordSk(id);
    const answer = await table.send(`read record "${id}"`, this.#keys.location(sk), (sdk) =>
      new sdk.GetItemCommand({ TableName: table.name, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
    );
    return answer.Item === undefined ? undefined : readRecordItem(answer.Item, this.#keys, id, table.place.cli);
  }

  /** The records among `ids`: BatchGetItem, 100 ids per request. */
  async getBatch(ids: string[]): Promise<Record<string, State>> {
    ids.forEach((id) => this.#checkId(id));
    const found: Record<string, State> = {};
    const pk = this.#keys.pk;
    if (pk === undefined || ids.length === 0) return found;
    const table = await this.#ready();
    const items = await batchGet(table, pk, ids.map((id) => this.#keys.recordSk(id)), "read records", this.#keys.location());
    for (const id of ids) {
      const item = items.get(this.#keys.recordSk(id));
      if (item !== undefined && !Object.hasOwn(found, id)) putEntry(found, id, await readRecordItem(item, this.#keys, id, table.place.cli));
    }
    return found;
  }

  async list(): Promise<string[]> {
    const ids: string[] = [];
    for await (const items of this.#records("list records", { ProjectionExpression: "sk" })) {
      for (const item of items) ids.push(this.#idOf(item));
    }
    return ids;
  }

  async all(): Promise<Record<string, State>> {
    const found: Record<string, State> = {};
    const table = await this.#ready();
    for await (const items of this.#records("read records")) {
      const states = await Promise.all(items.map((item) => readRecordItem(item, this.#keys, this.#idOf(item), table.place.cli)));
      for (const state of states) putEntry(found, state.id, state);
    }
    return found;
  }

  async count(): Promise<number> {
    let count = 0;
    for await (const page of this.#pages("count records", { Select: "COUNT" })) count += page.Count ?? 0;
    return count;
  }

  /** The latest write time among this scope's records (each writer's clock); `undefined` when it holds none. */
  async updatedAt(): Promise<Date | undefined> {
    let latest: number | undefined;
    for await (const items of this.#records("read update times", { ProjectionExpression: "updatedAt" })) {
      for (const item of items) latest = Math.max(latest ?? 0, Number(item.updatedAt?.N ?? 0) || 0);
    }
    return latest === undefined ? undefined : new Date(latest);
  }

  async listScopes(): Promise<string[]> {
    const table = await this.#ready();
    const keys = this.#keys;
    if (keys.pk !== undefined) return listChildScopes(table, keys);
    const stages = await registeredStages(table, keys.chain[0]);
    const holding = await Promise.all(stages.map((pk) => holdsRecords(table, pk)));
    const names = stages.filter((_, i) => holding[i]).map((pk) => pk.split("/")[keys.chain.length]!);
    return [...new Set(names)];
  }

  async set(id: string, state: State): Promise<void> {
    this.#checkId(id);
    const pk = this.#writablePk(id);
    const write = await recordWrite(this.#keys, id, state);
    const table = await this.#ready();
    await registerStage(table, pk);
    await this.#fenced(`write record "${id}"`, this.#keys.location(this.#keys.recordSk(id)), (token) => ({ update: write(token) }));
  }

  async delete(id: string): Promise<void> {
    this.#checkId(id);
    const pk = this.#writablePk(id);
    const sk = this.#keys.recordSk(id);
    await this.#fenced(`delete record "${id}"`, this.#keys.location(sk), (token) => ({ remove: itemDelete(pk, sk, token) }));
  }

  /** The stage's metadata (the item `~meta` of the stage), or `undefined` when none was written. */
  async getStageMeta(): Promise<StageMeta | undefined> {
    const pk = this.#metaPk("read the stage metadata of");
    const table = await this.#ready();
    const location = this.#keys.location(META_SK);
    const answer = await table.send("read the stage metadata", location, (sdk) =>
      new sdk.GetItemCommand({ TableName: table.name, Key: { pk: { S: pk }, sk: { S: META_SK } }, ConsistentRead: true }),
    );
    if (answer.Item === undefined) return undefined;
    const fix = `Restore the item from a backup, or delete it (${this.#keys.deleteCommand(META_SK, table.place.cli)}); alchemy then forgets what it kept for the stage, such as the check of its secrets' key.`;
    return parseStageMeta(answer.Item.meta?.S ?? null, location, fix);
  }

  /** Replaces the stage's metadata (one UpdateItem), fenced like a record write. */
  async setStageMeta(meta: StageMeta): Promise<void> {
    const pk = this.#metaPk("write the stage metadata of");
    const location = this.#keys.location(META_SK);
    const body = { meta: { S: stageMetaText(meta, location) } };
    if (itemBytes(pk, META_SK, body) > MAX_ITEM_BYTES) {
      throw new StateStoreError(`Refusing to write the stage metadata at ${location}: it is larger than the 400 KB DynamoDB allows per item. Nothing was written.`, location);
    }
    await this.#fenced("write the stage metadata", location, (token) => ({ update: itemUpdate(pk, META_SK, body, [], token) }));
  }

  /** Removes the stage's metadata (one DeleteItem; a no-op when there is none), fenced like a record write. */
  async deleteStageMeta(): Promise<void> {
    const pk = this.#metaPk("delete the stage metadata of");
    await this.#fenced("delete the stage metadata", this.#keys.location(META_SK), (token) => ({ remove: itemDelete(pk, META_SK, token) }));
  }

  /** Writes an entry of the stage's history (see dynamodb-history.ts), fenced like a record write. */
  async appendHistory(item: HistoryItem): Promise<void> {
    await this.#history("append to the history of").append(item);
  }

  /** The stage's history entries, newest first. */
  async listHistory(limit?: number): Promise<HistoryListing[]> {
    return this.#history("list the history of").list(limit);
  }

  /** The snapshot kept with entry `run`. */
  async getHistorySnapshot(run: string): Promise<Uint8Array | undefined> {
    const history = this.#history("read the history of");
    assertHistoryRun(run, this.#keys.location());
    return history.snapshot(run);
  }

  /** Removes the entries named, fenced like a record write. */
  async deleteHistory(runs: string[]): Promise<void> {
    const history = this.#history("delete from the history of");
    runs.forEach((run) => assertHistoryRun(run, this.#keys.location()));
    await history.delete(runs);
  }

  #history(doing: string): DynamoDBHistory {
    if (this.#keys.chain.length !== 2) throw notAStageHistory(doing, this.#keys.chain, this.#keys.location());
    return new DynamoDBHistory(this.#keys, () => this.#ready(), (what, location, make) => this.#fenced(what, location, make));
  }

  /**
   * Takes the stage's lock (the item `~lock` of the stage). Call it on the
   * stage scope's store before reading; from then on every write of this
   * process (through stores with the same settings or client) to any scope
   * of the stage is fenced, and rejected with a `LockLostError` once the
   * lock is lost. Leases are judged by each contender's own clock.
   *
   * @throws StageLockedError when another run holds a live lock for longer than `request.timeoutMs`.
   * @throws StateStoreError when this is not a stage scope's store.
   */
  async lock(request: LockRequest): Promise<StageLock> {
    return (await this.#lockItem("lock")).acquire(request);
  }

  /** The stage's lock, if any (stale or not). */
  async lockInfo(): Promise<LockInfo | undefined> {
    return (await (await this.#lockItem("read the lock of")).read())?.info;
  }

  /** Frees the stage if its lock's id is `lockId` (keeping its fencing token); resolves whether it did. */
  async forceUnlock(lockId: string): Promise<boolean> {
    return (await this.#lockItem("unlock")).clear(lockId);
  }

  /** Sends one write, fenced by the stage's lock when this process holds it. */
  async #fenced(doing: string, location: string, make: (token: number | undefined) => { update?: ItemUpdate; remove?: ItemDelete }): Promise<void> {
    const table = await this.#ready();
    const send = (token: number | undefined, guard?: () => void) =>
      table.send(doing, location, (sdk) => {
        const { update, remove } = make(token);
        return update ? new sdk.UpdateItemCommand({ TableName: table.name, ...update }) : new sdk.DeleteItemCommand({ TableName: table.name, ...remove! });
      }, { guard });
    const fence = table.connection.fences.get(stageKey(table.name, this.#keys.pk!));
    if (fence === undefined) await send(undefined);
    else await fence.write(location, send);
  }

  /** This scope's records, a page of items at a time. */
  async *#records(doing: string, extra: { ProjectionExpression?: string } = {}): AsyncGenerator<Item[]> {
    for await (const page of this.#pages(doing, extra)) yield page.Items ?? [];
  }

  /** The pages of the Query of this scope's records (none above a stage). */
  async *#pages(doing: string, extra: { ProjectionExpression?: string; Select?: "COUNT" }): AsyncGenerator<QueryCommandOutput> {
    const pk = this.#keys.pk;
    if (pk === undefined) return;
    const table = await this.#ready();
    yield* table.query(doing, this.#keys.location(), {
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :records)",
      ExpressionAttributeValues: { ":pk": { S: pk }, ":records": { S: this.#keys.recordPrefix } },
      ...extra,
    });
  }

  #idOf(item: Item): string {
    return this.#keys.idOf(item.sk?.S ?? "") ?? "";
  }

  async #ready(): Promise<DynamoDBTable> {
    if (this.#table === undefined) {
      const { table, endpoint, client, createTable = false } = this.#options;
      if (client !== undefined) {
        this.#table = new DynamoDBTable(dynamoDBConnection({ client }), table, { createTable, credentialsFrom: "client" });
      } else {
        const { region, credentials, credentialsFrom, profile } = awsSettings(this.#options, this.#profile, process.env);
        this.#table = new DynamoDBTable(dynamoDBConnection({ region, endpoint, credentials }), table, { region, endpoint, createTable, credentialsFrom, profile });
      }
    }
    await this.#table.ready();
    return this.#table;
  }

  #checkId(id: string): void {
    assertValidName(id, "resource id", this.#keys.path);
  }

  #writablePk(id: string): string {
    if (this.#keys.pk === undefined) {
      throw new StateStoreError(
        `Cannot write record "${id}" in "${this.#keys.path}": records live in a stage or a scope below it. ` +
          `Create the store for a scope whose chain has at least an application and a stage, e.g. ["my-app", "dev"].`,
        this.#keys.location(),
      );
    }
    return this.#keys.pk;
  }

  #metaPk(doing: string): string {
    if (this.#keys.chain.length !== 2) throw notAStageStore(doing, this.#keys.chain, this.#keys.location());
    return this.#keys.pk!;
  }

  async #lockItem(doing: string): Promise<DynamoDBStageLock> {
    const chain = this.#keys.chain;
    if (chain.length !== 2) {
      throw new StateStoreError(
        `Cannot ${doing} "${this.#keys.path}": stage locks belong to the store of a stage scope (app/stage). ` +
          `Call it on the store made for the stage's chain, e.g. { chain: ["${chain[0] ?? "my-app"}", "${chain[1] ?? "dev"}"] }.`,
        this.#keys.location(),
      );
    }
    return new DynamoDBStageLock(await this.#ready(), this.#keys);
  }
}
