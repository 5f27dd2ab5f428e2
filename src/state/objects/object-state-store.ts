/**
 * A state store in an object storage bucket: one JSON object per record, in
 * the format the file-system store writes, at
 * `<prefix>/<app>/<stage>/<nested...>/<id>.json` (see `object-layout.ts`),
 * through any API that implements {@link ObjectBucket} (Cloudflare's REST API
 * for R2, the S3 API for S3 and R2).
 *
 * What is atomic, and what is not:
 * - Each `set`, `delete`, `setStageMeta` and `deleteStageMeta` is ONE PUT or
 *   DELETE of one object: the bucket applies it whole, a reader sees the old
 *   object or the new one, and it is durable once the API answered.
 * - Each change of the stage's lock object is ONE conditional PUT
 *   (`If-None-Match: *` or `If-Match: <etag>`): of any number of contenders
 *   exactly one wins. Locking is refused on an endpoint that a probe shows
 *   ignoring these conditions (see `stage-lock-object.ts`): an S3 API without
 *   conditional writes cannot give a stage lock, and this store does not
 *   pretend to.
 * - NOT atomic: a fenced write. Neither API has a multi-object transaction
 *   or a PUT conditional on another object, so a holder's write is a check
 *   of the lock object (a GET: does it still hold our lock id?) followed by
 *   the PUT of the record, and a takeover can land between the two. What
 *   closes that window is the lease: a contender takes the lock over only
 *   once its `heartbeatAt` is older than the lease BY THE CONTENDER'S CLOCK,
 *   while the holder stops sending writes (checked before the lock read,
 *   after it, and before every attempt of the PUT, retries included) once the
 *   lease MINUS A MARGIN has passed since the start of its last successful
 *   heartbeat, by its own monotonic clock. The margin is
 *   `leaseSafetyMarginMs(lease)` = min(lease / 5, 10 s): 6 s for a 30 s
 *   lease. So a write of an old holder can land after a takeover only if the
 *   two machines' clocks differ, plus the time the PUT spends between
 *   leaving this process and the bucket applying it, by more than that
 *   margin. A takeover the lease cannot explain (`alchemy unlock`, a
 *   contender's clock far ahead) is caught by the lock read, except within
 *   the same window.
 * - NOT atomic: anything spanning objects. Two `set`s are two writes; `all`
 *   and `list` are a listing then one GET per record, not a snapshot.
 * - The fencing token grows with every acquisition (release keeps it in the
 *   lock object), but no bucket API can compare it on a record write:
 *   fencing is the lock-id check plus the lease, as above.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { assertValidName, type NameKind } from "../../core/names.js";
import type { LockInfo, LockRequest, StageLock, StageLocking } from "../stage-lock.js";
import { notAStageStore, parseStageMeta, stageMetaText } from "../stage-meta.js";
import { assertWritableState, putEntry, parseStateText, serializeState } from "../state-record.js";
import type { HistoryItem, HistoryListing, StageMeta, State, StateStore, StateStoreScope } from "../state-store.js";
import { assertHistoryRun, notAStageHistory } from "../history-items.js";
import { ObjectHistory } from "./object-history.js";
import { fenceKey, type ObjectBucket, type WriteOptions } from "./object-bucket.js";
import { ObjectLayout } from "./object-layout.js";
import { RecordCache } from "./record-cache.js";
import { ObjectStageLock } from "./stage-lock-object.js";

/** The record caches of the process, by bucket identity and cache settings (`undefined`: off, or no trusted directory). */
const caches = new Map<string, RecordCache | undefined>();

/**
 * What a store in a bucket is made of: its key layout's prefix, the
 * bucket's URL for messages, and a function that connects to the bucket on
 * first use (so that credentials are looked up then, not by a constructor).
 */
export interface ObjectStoreParts {
  /** Where in the bucket the state lives. */
  prefix?: string;
  /** `s3://my-bucket`, `r2://my-bucket`: for messages before the bucket is connected. */
  bucketUrl: string;
  connect: () => ObjectBucket;
}

/**
 * A {@link StateStore} keeping each record as an object of a bucket, and
 * locking stages with a lock object changed by conditional PUTs
 * ({@link StageLocking}). See the module comment for what is atomic and what
 * is not. Each API's store extends it (`R2RestStateStore`, `S3StateStore`).
 */
export class ObjectStateStore implements StateStore, StageLocking {
  readonly #chain: readonly string[];
  readonly #layout: ObjectLayout;
  readonly #prefix: string;
  readonly #connect: () => ObjectBucket;
  readonly #bucketUrl: string;
  #objects: ObjectBucket | undefined;

  /**
   * @throws ScopeError when a segment of `scope.chain` is not a valid name.
   * @throws StateStoreError when the prefix is malformed.
   */
  protected constructor(scope: StateStoreScope, parts: ObjectStoreParts) {
    const chain = [...scope.chain];
    const kinds: NameKind[] = ["application", "stage"];
    chain.forEach((name, i) => assertValidName(name, kinds[i] ?? "scope", chain.slice(0, i).join("/") || "/"));
    this.#chain = chain;
    this.#layout = new ObjectLayout(parts.prefix, parts.bucketUrl);
    this.#prefix = this.#layout.scopePrefix(chain);
    this.#connect = parts.connect;
    this.#bucketUrl = parts.bucketUrl;
  }

  /** Where object `key` is, for messages: `s3://bucket/key`. */
  #where(key: string): string {
    return `${this.#bucketUrl}/${key}`;
  }

  /** Connects and names the bucket; reports missing credentials here rather than at the first write. */
  async init(): Promise<void> {
    await this.bucket().identity();
  }

  async get(id: string): Promise<State | undefined> {
    this.#checkId(id);
    const key = this.#layout.recordKey(this.#chain, id);
    const found = await this.bucket().get(key, `read record "${id}"`);
    if (found === undefined) return undefined;
    const state = this.#parse(found.text, id, key);
    (await this.#cache())?.write(key, found.text, found.etag);
    return state;
  }

  async getBatch(ids: string[]): Promise<Record<string, State>> {
    ids.forEach((id) => this.#checkId(id));
    const read = await Promise.all(ids.map((id) => this.get(id)));
    const found: Record<string, State> = {};
    read.forEach((state, i) => state !== undefined && putEntry(found, ids[i]!, state));
    return found;
  }

  async list(): Promise<string[]> {
    return (await this.#records()).map((record) => record.id);
  }

  async listScopes(): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.bucket().list(this.#prefix, { delimiter: "/", doing: "list child scopes" })) {
      for (const prefix of page.prefixes) {
        const name = this.#layout.childOf(prefix, this.#prefix);
        if (name !== undefined) names.push(name);
      }
    }
    // Below a stage only records make prefixes; above it, a stage holding only its lock or metadata must not count.
    if (this.#chain.length >= 2) return names;
    const holding = await Promise.all(names.map((name) => this.#holdsRecords(`${this.#prefix}${name}/`)));
    return names.filter((_, i) => holding[i]);
  }

  /** One listing, then each record from the local cache when the listing's ETag vouches for it, else one GET. */
  async all(): Promise<Record<string, State>> {
    const records = await this.#records();
    const cache = await this.#cache();
    const read = await Promise.all(
      records.map(async ({ id, key, etag }) => {
        const cached = await cache?.read(key, etag);
        if (cached !== undefined) return cached;
        const object = await this.bucket().get(key, `read record "${id}"`);
        if (object !== undefined) cache?.write(key, object.text, object.etag);
        return object?.text; // undefined: deleted since the listing
      }),
    );
    const found: Record<string, State> = {};
    read.forEach((text, i) => {
      const { id, key } = records[i]!;
      if (text !== undefined) putEntry(found, id, this.#parse(text, id, key));
    });
    return found;
  }

  async count(): Promise<number> {
    return (await this.#records()).length;
  }

  /** The newest upload time among this scope's records (the listing's last-modified); `undefined` when it holds none. */
  async updatedAt(): Promise<Date | undefined> {
    const times = (await this.#records()).map((record) => Date.parse(record.lastModified ?? "")).filter((t) => !Number.isNaN(t));
    return times.length === 0 ? undefined : new Date(Math.max(...times));
  }

  async set(id: string, state: State): Promise<void> {
    this.#checkId(id);
    const key = this.#writableKey(id);
    const location = this.#where(key);
    assertWritableState(state, id, location, `${this.#chain.join("/")}/${id}`);
    const text = serializeState(state, location);
    const cache = await this.#cache();
    await this.#fenced(`write record "${id}"`, async (options) => {
      cache?.forget(key); // gone first: a write that fails part-way leaves no entry the next listing could vouch for wrongly
      const put = await this.bucket().put(key, text, options);
      if (put !== "precondition-failed") cache?.write(key, text, put.etag);
    });
  }

  async delete(id: string): Promise<void> {
    this.#checkId(id);
    const key = this.#writableKey(id);
    (await this.#cache())?.forget(key);
    await this.#fenced(`delete record "${id}"`, (options) => this.bucket().delete(key, options));
  }

  /** The stage's metadata (the object `~stage.json` of the stage), or `undefined` when none was written. */
  async getStageMeta(): Promise<StageMeta | undefined> {
    const key = this.#metaKey("read the stage metadata of");
    const found = await this.bucket().get(key, "read the stage metadata");
    if (found === undefined) return undefined;
    return parseStageMeta(found.text, this.#where(key), `Restore the object from a backup, or delete it (${this.bucket().deleteCommand(key)}); alchemy then forgets what it kept for the stage.`);
  }

  /** Replaces the stage's metadata (one PUT), fenced like a record write. */
  async setStageMeta(meta: StageMeta): Promise<void> {
    const key = this.#metaKey("write the stage metadata of");
    const text = stageMetaText(meta, this.#where(key));
    await this.#fenced("write the stage metadata", (options) => this.bucket().put(key, text, options));
  }

  /** Removes the stage's metadata (one DELETE; a no-op when there is none), fenced like a record write. */
  async deleteStageMeta(): Promise<void> {
    const key = this.#metaKey("delete the stage metadata of");
    await this.#fenced("delete the stage metadata", (options) => this.bucket().delete(key, options));
  }

  /** Writes an entry of the stage's history (see object-history.ts), fenced like a record write. */
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
    assertHistoryRun(run, this.#where(this.#prefix));
    return history.snapshot(run);
  }

  /** Removes the entries named, fenced like a record write. */
  async deleteHistory(runs: string[]): Promise<void> {
    const history = this.#history("delete from the history of");
    runs.forEach((run) => assertHistoryRun(run, this.#where(this.#prefix)));
    await history.delete(runs);
  }

  #history(doing: string): ObjectHistory {
    if (this.#chain.length !== 2) throw notAStageHistory(doing, this.#chain, this.#where(this.#prefix));
    return new ObjectHistory(this.#prefix, () => this.bucket(), (what, write) => this.#fenced(what, write));
  }

  /**
   * Takes the stage's lock (the object `~lock.json` of the stage). Call it on
   * the stage scope's store before reading; from then on every write of this
   * process (through stores with the same credentials and fetch) to any scope
   * of the stage is fenced, and rejected with a `LockLostError` once the lock
   * is lost. Leases are judged by each contender's own clock.
   *
   * @throws StageLockedError when another run holds a live lock for longer than `request.timeoutMs`.
   * @throws StateStoreError when this is not a stage scope's store, or the endpoint ignores conditional PUTs.
   */
  async lock(request: LockRequest): Promise<StageLock> {
    const lock = this.#lockObject("lock");
    return lock.acquire(request);
  }

  /** The stage's lock, if any (stale or not). */
  async lockInfo(): Promise<LockInfo | undefined> {
    return (await this.#lockObject("read the lock of").read())?.info;
  }

  /** Frees the stage if its lock's id is `lockId`; resolves whether it did. */
  async forceUnlock(lockId: string): Promise<boolean> {
    return this.#lockObject("unlock").clear(lockId);
  }

  /** Runs a write, through the stage's fence when this process holds the stage's lock. */
  async #fenced(doing: string, write: (options: WriteOptions) => Promise<unknown>): Promise<void> {
    const objects = this.bucket();
    const key = fenceKey(await objects.identity(), this.#layout.lockKey(this.#chain));
    const fence = objects.session.fences.get(key);
    if (fence === undefined) await write({ doing });
    else await fence.write((guard) => write({ doing, guard }));
  }

  /** The records directly in this scope: one delimited listing. */
  async #records(): Promise<{ id: string; key: string; lastModified?: string; etag?: string }[]> {
    const records: { id: string; key: string; lastModified?: string; etag?: string }[] = [];
    for await (const page of this.bucket().list(this.#prefix, { delimiter: "/", doing: "list records" })) {
      for (const object of page.objects) {
        const id = this.#layout.idOf(object.key, this.#prefix);
        if (id !== undefined) records.push({ id, key: object.key, lastModified: object.lastModified, etag: object.etag });
      }
    }
    return records;
  }

  /** Whether a record exists anywhere below `prefix`; stops at the first. */
  async #holdsRecords(prefix: string): Promise<boolean> {
    for await (const page of this.bucket().list(prefix, { doing: "look for records" })) {
      if (page.objects.some((object) => this.#layout.isRecordKey(object.key))) return true;
    }
    return false;
  }

  /** The local cache of this bucket's records (`record-cache.ts`), once per bucket per process. */
  async #cache(): Promise<RecordCache | undefined> {
    const identity = await this.bucket().identity();
    const key = [identity, process.env.ALCHEMY_CACHE ?? "", process.env.ALCHEMY_CACHE_DIR ?? ""].join("\u0000");
    if (!caches.has(key)) caches.set(key, RecordCache.open(identity));
    return caches.get(key);
  }

  /** The bucket, connected on first use. */
  protected bucket(): ObjectBucket {
    return (this.#objects ??= this.#connect());
  }

  #checkId(id: string): void {
    assertValidName(id, "resource id", this.#chain.join("/") || "/");
  }

  #writableKey(id: string): string {
    const key = this.#layout.recordKey(this.#chain, id);
    if (this.#chain.length < 2) {
      throw new StateStoreError(
        `Cannot write record "${id}" in "${this.#chain.join("/") || "/"}": records live in a stage or a scope below it. ` +
          `Create the store for a scope whose chain has at least an application and a stage, e.g. ["my-app", "dev"].`,
        this.#where(key),
      );
    }
    return key;
  }

  #metaKey(doing: string): string {
    if (this.#chain.length !== 2) throw notAStageStore(doing, this.#chain, this.#where(this.#prefix));
    return this.#layout.metaKey(this.#chain);
  }

  #lockObject(doing: string): ObjectStageLock {
    if (this.#chain.length !== 2) {
      throw new StateStoreError(
        `Cannot ${doing} "${this.#chain.join("/") || "/"}": stage locks belong to the store of a stage scope (app/stage). ` +
          `Call it on the store made for the stage's chain, e.g. { chain: ["${this.#chain[0] ?? "my-app"}", "${this.#chain[1] ?? "dev"}"] }.`,
        this.#where(this.#prefix),
      );
    }
    return new ObjectStageLock(this.bucket(), this.#layout, [this.#chain[0]!, this.#chain[1]!]);
  }

  #parse(text: string, id: string, key: string): State {
    const location = this.#where(key);
    const fqn = `${this.#chain.join("/")}/${id}`;
    const corrupt = (what: string, cause?: unknown) =>
      new StateStoreError(
        `The record ${location} ${what}. Nothing was changed. Restore the object from a backup, or remove the record with ` +
          `\`alchemy state rm ${fqn}\` (the resource it describes is then no longer tracked).`,
        location,
        cause === undefined ? undefined : { cause },
      );
    return parseStateText(text, id, fqn, corrupt);
  }
}
