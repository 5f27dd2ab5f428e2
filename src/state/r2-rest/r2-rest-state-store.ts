/**
 * A state store in a Cloudflare R2 bucket, through Cloudflare's REST API
 * (`/accounts/:id/r2/buckets/:bucket/objects/...`) with an API token: one
 * JSON object per record, in the format the file-system store writes, at
 * `<prefix>/<app>/<stage>/<nested...>/<id>.json` (see `r2-layout.ts`).
 *
 * What is atomic, and what is not:
 * - Each `set`, `delete`, `setStageMeta` and `deleteStageMeta` is ONE PUT or
 *   DELETE of one object: R2 applies it whole, a reader sees the old object
 *   or the new one, and it is durable once R2 answered.
 * - Each change of the stage's lock object is ONE conditional PUT
 *   (`If-None-Match: *` or `If-Match: <etag>`): of any number of contenders
 *   exactly one wins. Locking is refused on an endpoint that a probe shows
 *   ignoring these conditions (see `r2-stage-lock.ts`).
 * - NOT atomic: a fenced write. R2's REST API has no multi-object
 *   transaction and cannot make a PUT conditional on another object, so a
 *   holder's write is a check of the lock object (a GET: does it still hold
 *   our lock id?) followed by the PUT of the record, and a takeover can land
 *   between the two. What closes that window is the lease: a contender takes
 *   the lock over only once its `heartbeatAt` is older than the lease BY THE
 *   CONTENDER'S CLOCK, while the holder stops sending writes (checked before
 *   the lock read, after it, and before every attempt of the PUT, retries
 *   included) once the lease MINUS A MARGIN has passed since the start of its
 *   last successful heartbeat, by its own monotonic clock. The margin is
 *   `leaseSafetyMarginMs(lease)` = min(lease / 5, 10 s): 6 s for a 30 s
 *   lease. So a write of an old holder can land after a takeover only if the
 *   two machines' clocks differ, plus the time the PUT spends between
 *   leaving this process and R2 applying it, by more than that margin. A
 *   takeover the lease cannot explain (`alchemy unlock`, a contender's clock
 *   far ahead) is caught by the lock read, except within the same window.
 * - NOT atomic: anything spanning objects. Two `set`s are two writes; `all`
 *   and `list` are a listing then one GET per record, not a snapshot.
 * - The fencing token grows with every acquisition (release keeps it in the
 *   lock object), but R2 cannot compare it on a record write: fencing is the
 *   lock-id check plus the lease, as above.
 *
 * Cost: Cloudflare allows 1,200 API requests per 5 minutes per token, and
 * the client keeps under it by waiting. Reading a whole scope takes one
 * listing per 1,000 keys plus one GET per record; a fenced write takes its
 * PUT plus a lock read shared with the writes asked for meanwhile. Stages of
 * thousands of records are better kept in a store with batch reads.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { assertValidName, type NameKind } from "../../core/names.js";
import { Credentials } from "../../core/profiles/credentials.js";
import { cloudflareCredentials, CloudflareCredentials } from "../../providers/cloudflare/remote/credentials.js";
import type { RequestLimits } from "../../providers/cloudflare/remote/request-limiter.js";
import type { LockInfo, LockRequest, StageLock, StageLocking } from "../stage-lock.js";
import { notAStageStore, parseStageMeta, stageMetaText } from "../stage-meta.js";
import { assertWritableState, putEntry, readStoredState, serializeState } from "../state-record.js";
import type { StageMeta, State, StateStore, StateStoreScope } from "../state-store.js";
import { fenceKey, r2Connection } from "./r2-connection.js";
import { R2Layout } from "./r2-layout.js";
import { R2Objects, type WriteOptions } from "./r2-objects.js";
import { R2StageLockObject } from "./r2-stage-lock.js";

/** Options of {@link R2RestStateStore}. */
export interface R2RestStateStoreOptions {
  /** The R2 bucket (it must exist), e.g. `"my-state"`. */
  bucket: string;
  /**
   * Where in the bucket the state lives: keys start with `<prefix>/`.
   * @default "" (keys start with the application name)
   * @example "alchemy/state"
   */
  prefix?: string;
  /**
   * The Cloudflare account of the bucket.
   * @default the credentials' account id, else the first account the token sees
   */
  accountId?: string;
  /**
   * An API token with "Workers R2 Storage Write" on the account. With it, the
   * profile and the environment are not consulted.
   * @default the `cloudflare.apiToken` of the profile, else CLOUDFLARE_API_TOKEN (see `cloudflareCredentials`)
   */
  apiToken?: string;
  /**
   * The REST API's base URL; only together with `apiToken`, so that a token
   * from the profile or the environment goes nowhere it was not meant for.
   * @default "https://api.cloudflare.com/client/v4"
   */
  baseUrl?: string;
  /**
   * The credential profile whose `cloudflare` section gives the token when
   * `apiToken` is not set.
   * @default the run's profile (`--profile`), else process.env.ALCHEMY_PROFILE ?? "default"
   */
  profile?: string;
  /**
   * The fetch the requests go through (a proxy, a test). Stores with the same
   * credentials and fetch share one client, request budget and lock fence.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The client's request budget; raise it only for an endpoint with another limit.
   * @default 1,200 requests per 5 minutes (Cloudflare's)
   */
  requestLimits?: RequestLimits;
}

/**
 * A {@link StateStore} keeping each record as an object of an R2 bucket,
 * through Cloudflare's REST API, and locking stages with a lock object
 * changed by conditional PUTs ({@link StageLocking}). See the module comment
 * for what is atomic and what is not.
 *
 * Credentials are looked up on first use, not by the constructor.
 *
 * @example
 * import { R2RestStateStore } from "alchemy/state/r2-rest";
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new R2RestStateStore(scope, { bucket: "my-state", prefix: "alchemy" }),
 * });
 */
export class R2RestStateStore implements StateStore, StageLocking {
  readonly #chain: readonly string[];
  readonly #layout: R2Layout;
  readonly #prefix: string;
  readonly #connect: () => R2Objects;
  #objects: R2Objects | undefined;

  /**
   * @throws ScopeError when a segment of `scope.chain` is not a valid name.
   * @throws StateStoreError when `bucket` is not an R2 bucket name, `prefix` is malformed, or `baseUrl` comes without `apiToken`.
   */
  constructor(scope: StateStoreScope, options: R2RestStateStoreOptions) {
    const chain = [...scope.chain];
    const kinds: NameKind[] = ["application", "stage"];
    chain.forEach((name, i) => assertValidName(name, kinds[i] ?? "scope", chain.slice(0, i).join("/") || "/"));
    const bucket = options.bucket;
    if (typeof bucket !== "string" || !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new StateStoreError(
        `${JSON.stringify(bucket)} is not an R2 bucket name: use 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit.`,
        `r2://${String(bucket)}`,
      );
    }
    const s3Keys = ["accessKeyId", "secretAccessKey"].filter((name) => Object.hasOwn(options, name));
    if (s3Keys.length > 0) {
      // Seed 002's example passes S3 keys; this store speaks Cloudflare's REST API, which takes an API token.
      throw new StateStoreError(
        `The R2 REST state store got ${s3Keys.join(" and ")}, which it does not use: it authenticates with a Cloudflare API token. ` +
          `Pass apiToken (a token with "Workers R2 Storage Write"), or leave it out to use the profile's cloudflare.apiToken or CLOUDFLARE_API_TOKEN.`,
        `r2://${bucket}`,
      );
    }
    if (options.baseUrl !== undefined && options.apiToken === undefined) {
      throw new StateStoreError(
        `The R2 state store got a baseUrl without an apiToken: pass both, or neither (the profile's or the environment's cloudflare settings then give both).`,
        `r2://${bucket}`,
      );
    }
    this.#chain = chain;
    this.#layout = new R2Layout(bucket, options.prefix);
    this.#prefix = this.#layout.scopePrefix(chain);
    const { apiToken, accountId, baseUrl, fetch, requestLimits } = options;
    const profile = options.profile ?? scope.profile ?? process.env.ALCHEMY_PROFILE ?? "default";
    // The token stays in this closure until the credentials (which never show it) are made.
    this.#connect = () => {
      const credentials =
        apiToken !== undefined
          ? new CloudflareCredentials({ kind: "token", secret: apiToken, accountId, baseUrl, profile, source: "program" })
          : cloudflareCredentials(Credentials.fromEnv(profile, process.env).tryFor("cloudflare"), process.env, profile);
      const connection = r2Connection(credentials, { fetch, limits: requestLimits });
      return new R2Objects(connection, this.#layout, async () => accountId ?? (await connection.api.accountId()));
    };
  }

  /** Finds the credentials (profile or environment) and the account; reports a missing token here rather than at the first write. */
  async init(): Promise<void> {
    await this.#r2().accountId();
  }

  async get(id: string): Promise<State | undefined> {
    this.#checkId(id);
    const key = this.#layout.recordKey(this.#chain, id);
    const found = await this.#r2().get(key, `read record "${id}"`);
    return found === undefined ? undefined : this.#parse(found.text, id, key);
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
    for await (const page of this.#r2().list(this.#prefix, { delimiter: "/", doing: "list child scopes" })) {
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

  async all(): Promise<Record<string, State>> {
    const records = await this.#records();
    const read = await Promise.all(records.map(({ id, key }) => this.#r2().get(key, `read record "${id}"`)));
    const found: Record<string, State> = {};
    read.forEach((object, i) => {
      const { id, key } = records[i]!;
      if (object !== undefined) putEntry(found, id, this.#parse(object.text, id, key)); // else deleted since the listing
    });
    return found;
  }

  async count(): Promise<number> {
    return (await this.#records()).length;
  }

  /** The newest upload time among this scope's records (R2's `last_modified`); `undefined` when it holds none. */
  async updatedAt(): Promise<Date | undefined> {
    const times = (await this.#records()).map((record) => Date.parse(record.lastModified ?? "")).filter((t) => !Number.isNaN(t));
    return times.length === 0 ? undefined : new Date(Math.max(...times));
  }

  async set(id: string, state: State): Promise<void> {
    this.#checkId(id);
    const key = this.#writableKey(id);
    const location = this.#layout.location(key);
    assertWritableState(state, id, location, `${this.#chain.join("/")}/${id}`);
    const text = serializeState(state, location);
    await this.#fenced(`write record "${id}"`, (options) => this.#r2().put(key, text, options));
  }

  async delete(id: string): Promise<void> {
    this.#checkId(id);
    const key = this.#writableKey(id);
    await this.#fenced(`delete record "${id}"`, (options) => this.#r2().delete(key, options));
  }

  /** The stage's metadata (the object `~stage.json` of the stage), or `undefined` when none was written. */
  async getStageMeta(): Promise<StageMeta | undefined> {
    const key = this.#metaKey("read the stage metadata of");
    const found = await this.#r2().get(key, "read the stage metadata");
    if (found === undefined) return undefined;
    return parseStageMeta(found.text, this.#layout.location(key), `Restore the object from a backup, or delete it (wrangler r2 object delete ${this.#layout.bucket}/${key}); alchemy then forgets what it kept for the stage.`);
  }

  /** Replaces the stage's metadata (one PUT), fenced like a record write. */
  async setStageMeta(meta: StageMeta): Promise<void> {
    const key = this.#metaKey("write the stage metadata of");
    const text = stageMetaText(meta, this.#layout.location(key));
    await this.#fenced("write the stage metadata", (options) => this.#r2().put(key, text, options));
  }

  /** Removes the stage's metadata (one DELETE; a no-op when there is none), fenced like a record write. */
  async deleteStageMeta(): Promise<void> {
    const key = this.#metaKey("delete the stage metadata of");
    await this.#fenced("delete the stage metadata", (options) => this.#r2().delete(key, options));
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
    return lock.acquire(request, await this.#r2().accountId());
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
    const objects = this.#r2();
    const key = fenceKey(await objects.accountId(), this.#layout.bucket, this.#layout.lockKey(this.#chain));
    const fence = objects.connection.fences.get(key);
    if (fence === undefined) await write({ doing });
    else await fence.write((guard) => write({ doing, guard }));
  }

  /** The records directly in this scope: one delimited listing. */
  async #records(): Promise<{ id: string; key: string; lastModified?: string }[]> {
    const records: { id: string; key: string; lastModified?: string }[] = [];
    for await (const page of this.#r2().list(this.#prefix, { delimiter: "/", doing: "list records" })) {
      for (const object of page.objects) {
        const id = this.#layout.idOf(object.key, this.#prefix);
        if (id !== undefined) records.push({ id, key: object.key, lastModified: object.lastModified });
      }
    }
    return records;
  }

  /** Whether a record exists anywhere below `prefix`; stops at the first. */
  async #holdsRecords(prefix: string): Promise<boolean> {
    for await (const page of this.#r2().list(prefix, { doing: "look for records" })) {
      if (page.objects.some((object) => this.#layout.isRecordKey(object.key))) return true;
    }
    return false;
  }

  #r2(): R2Objects {
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
        this.#layout.location(key),
      );
    }
    return key;
  }

  #metaKey(doing: string): string {
    if (this.#chain.length !== 2) throw notAStageStore(doing, this.#chain, this.#layout.location(this.#prefix));
    return this.#layout.metaKey(this.#chain);
  }

  #lockObject(doing: string): R2StageLockObject {
    if (this.#chain.length !== 2) {
      throw new StateStoreError(
        `Cannot ${doing} "${this.#chain.join("/") || "/"}": stage locks belong to the store of a stage scope (app/stage). ` +
          `Call it on the store made for the stage's chain, e.g. { chain: ["${this.#chain[0] ?? "my-app"}", "${this.#chain[1] ?? "dev"}"] }.`,
        this.#layout.location(this.#prefix),
      );
    }
    return new R2StageLockObject(this.#r2(), [this.#chain[0]!, this.#chain[1]!]);
  }

  #parse(text: string, id: string, key: string): State {
    const location = this.#layout.location(key);
    const fqn = `${this.#chain.join("/")}/${id}`;
    const corrupt = (what: string, cause?: unknown) =>
      new StateStoreError(
        `The record ${location} ${what}. Nothing was changed. Restore the object from a backup, or remove the record with ` +
          `\`alchemy state rm ${fqn}\` (the resource it describes is then no longer tracked).`,
        location,
        cause === undefined ? undefined : { cause },
      );
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw corrupt(text.length === 0 ? "is empty" : `is not valid JSON (${(error as Error).message})`, error);
    }
    const state = readStoredState(value, id, fqn);
    if (typeof state === "string") throw corrupt(`is not a state record: it ${state}`);
    return state;
  }
}
