/**
 * `ObjectBucket`: what a state store kept in an object storage bucket needs
 * from the bucket's API, and nothing more. The store, its key layout, its
 * stage lock and its write fence are written once against this interface
 * (`object-state-store.ts`); each API is one implementation: Cloudflare's
 * REST API for R2 (`../r2-rest/r2-rest-bucket.ts`), the S3 API for S3 and R2
 * (`../s3/s3-bucket.ts`).
 *
 * The contract every implementation keeps:
 * - `get` answers the object's text and its ETag, or `undefined` when there
 *   is no such object (a missing BUCKET is an error naming how to create it);
 * - a `put` or `delete` replaces or removes one object whole;
 * - a conditional `put` (`If-None-Match: *` or `If-Match: <etag>`) answers
 *   `"precondition-failed"` when the condition does not hold, and is
 *   atomic: of several conditional PUTs racing on one key exactly one wins.
 *   A "conflicting conditional write in progress" answer (S3's 409
 *   ConditionalRequestConflict) is retried by the implementation;
 * - `guard` runs before EVERY attempt of a write, retries included, and its
 *   error stops the write;
 * - every failure is a `StateStoreError` naming the object and what was
 *   being done, never a secret.
 *
 * @module
 */
import type { ObjectStageFence } from "./stage-fence.js";

/** An object as read: its text and its ETag (unquoted). */
export interface StoredObject {
  text: string;
  etag: string;
}

/** What a PUT must find: no object at all, or the object with this ETag. */
export type PutCondition = { ifNoneMatch: "*" } | { ifMatch: string };

/** One object of a listing. */
export interface ListedObject {
  key: string;
  /** When the object was last written, as the API wrote it (ISO 8601 or an HTTP date). */
  lastModified?: string;
  /** Its ETag (unquoted), when the listing gives it. */
  etag?: string;
}

/** One page of a listing: objects, and the prefixes the delimiter rolled up. */
export interface ListingPage {
  objects: ListedObject[];
  prefixes: string[];
}

/** Options of a write. */
export interface WriteOptions {
  /** What the caller is doing, for messages: `write record "api"`. */
  doing: string;
  /** Runs before each attempt; throws (e.g. `LockLostError`) to stop the write. */
  guard?: () => void;
  /**
   * A request of the stage lock (take, renew, release): sent at once, ahead
   * of the record requests waiting for a slot, so that thousands of queued
   * writes cannot hold a heartbeat back past the lease.
   */
  urgent?: boolean;
}

/**
 * What the process shares per connection to an API (one client, one set of
 * credentials): the fences of the stages it locked, and the buckets whose
 * conditional writes were seen to work.
 */
export interface BucketSession {
  /** Fences by `<bucket identity>\0<lock key>`. */
  readonly fences: Map<string, ObjectStageFence>;
  /** Probes by bucket identity. */
  readonly probed: Map<string, Promise<void>>;
}

/**
 * The objects of one bucket through one API connection.
 *
 * @example
 * const found = await bucket.get("app/dev/~lock.json", "read the lock of stage dev");
 * await bucket.put("app/dev/~lock.json", text, { doing: "take the lock", condition: { ifMatch: found!.etag } });
 */
export interface ObjectBucket {
  /** The bucket's name. */
  readonly name: string;
  /** The API's endpoint, for messages (`https://api.cloudflare.com/client/v4`, `https://s3.eu-west-1.amazonaws.com`). */
  readonly endpoint: string;
  /** What the process shares over this connection. */
  readonly session: BucketSession;
  /** Where an object is, for messages: `r2://bucket/key`, `s3://bucket/key`. */
  location(key: string): string;
  /** A command a user can run to delete one object by hand: `aws s3 rm s3://bucket/key`. */
  deleteCommand(key: string): string;
  /** A string that names this bucket on its endpoint and account, the same in every store of the process. */
  identity(): Promise<string>;
  /** The object at `key`, or `undefined` when there is none. */
  get(key: string, doing: string, options?: { urgent?: boolean }): Promise<StoredObject | undefined>;
  /**
   * Writes `text` at `key`; with a `condition`, only if it holds. Resolves
   * the new object's ETag (`undefined` if the API did not say), or
   * `"precondition-failed"` when the condition did not hold.
   */
  put(key: string, text: string, options: WriteOptions & { condition?: PutCondition }): Promise<{ etag: string | undefined } | "precondition-failed">;
  /** Removes the object at `key`; a no-op when there is none. */
  delete(key: string, options: WriteOptions): Promise<void>;
  /**
   * The pages of the listing of the keys starting with `prefix`; with
   * `delimiter: "/"`, keys below the next `/` are rolled up into `prefixes`.
   */
  list(prefix: string, options: { delimiter?: "/"; doing: string }): AsyncGenerator<ListingPage>;
}

/** The key of a stage's fence in {@link BucketSession.fences}. */
export function fenceKey(identity: string, lockKey: string): string {
  return `${identity}\u0000${lockKey}`;
}

/** A new, empty {@link BucketSession}. */
export function newBucketSession(): BucketSession {
  return { fences: new Map(), probed: new Map() };
}

/** An ETag without quotes or a weak `W/` prefix; `undefined` for none. */
export function unquoteEtag(etag: string | null | undefined): string | undefined {
  if (etag === null || etag === undefined || etag.trim() === "") return undefined;
  return etag.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}
