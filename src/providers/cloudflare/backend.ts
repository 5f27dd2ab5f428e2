/**
 * The seam between Cloudflare resources and where they run. Each resource kind
 * (worker.ts, d1-database.ts, ...) is defined once and does its work through a
 * {@link CloudflareBackend}: `local` runs everything on Miniflare on this
 * machine, `remote` calls the Cloudflare REST API. The run picks one (see
 * backend-of.ts); a resource never looks at flags itself.
 *
 * Bindings use the shapes of the Worker upload API's metadata (`plain_text`,
 * `secret_text`, `json`, `d1`, `kv_namespace`, `r2_bucket`, `queue`,
 * `service`), so the remote backend sends them as they are and the local one
 * maps them onto Miniflare's options.
 *
 * @module
 */

/** Which backend made a resource; recorded in its output, so that a remote run never takes a local record for a cloud resource. */
export type BackendMode = "local" | "remote";

/** A binding of a Worker, as the Worker upload API's metadata spells it. */
export type WorkerBinding =
  | { type: "plain_text"; name: string; text: string }
  | { type: "secret_text"; name: string; text: string }
  | { type: "json"; name: string; json: unknown }
  | { type: "d1"; name: string; id: string }
  | { type: "kv_namespace"; name: string; namespace_id: string }
  /** `jurisdiction` for a bucket made in one ("eu", "fedramp"): Cloudflare finds such a bucket only with it. */
  | { type: "r2_bucket"; name: string; bucket_name: string; jurisdiction?: string }
  | { type: "queue"; name: string; queue_name: string }
  | { type: "service"; name: string; service: string };

/** One module of a bundled Worker. */
export interface WorkerModule {
  /** Path of the module inside the bundle, e.g. `index.js`. */
  name: string;
  type: "esm" | "text" | "wasm" | "sourcemap";
  contents: Uint8Array | string;
}

/** Consumer settings of a Worker for one queue (`eventSources`). */
export interface QueueConsumer {
  /** Physical name of the queue. */
  queue: string;
  /** Messages per batch. @default 10 */
  maxBatchSize?: number;
  /** Seconds to wait for a full batch. @default 5 */
  maxBatchTimeout?: number;
  /** @default 3 */
  maxRetries?: number;
  /** Physical name of a dead-letter queue. */
  deadLetterQueue?: string;
}

/** Everything needed to run one version of a Worker. */
export interface WorkerSpec {
  /** Physical name: unique per account (remote) and per process (local). */
  name: string;
  /** The first module is the entry point (`main_module`). */
  modules: WorkerModule[];
  compatibilityDate: string;
  compatibilityFlags: string[];
  bindings: WorkerBinding[];
  queueConsumers: QueueConsumer[];
  /** Local: the port to serve on; `undefined` picks a free one. Remote: ignored. */
  port?: number;
  /** Remote: serve on the account's workers.dev subdomain (the route is turned on or off at every put). Local: always served on its port. */
  url: boolean;
}

/** Where a Worker answers. */
export interface WorkerEndpoint {
  /** `http://127.0.0.1:<port>/` locally, `https://<name>.<subdomain>.workers.dev/` remotely (when `url`). */
  url?: string;
  /** Local only: the port it is served on (kept in state, so it stays the same next time). */
  port?: number;
}

/** A recorded resource, as {@link CloudflareBackend.find} looks for it. */
export type ExistingResource =
  | { kind: "d1"; id: string }
  | { kind: "kv"; id: string }
  | { kind: "r2"; name: string; jurisdiction?: string }
  | { kind: "queue"; id: string }
  /** `queues`: ids of the queues the Worker's record says it consumes, whose consumer of it is looked up. */
  | { kind: "worker"; name: string; queues: string[] };

/**
 * What the API says now of a recorded resource: only what alchemy manages and
 * the documented GET returns. A D1 database and an R2 bucket have nothing
 * alchemy manages that can change in place (D1's update takes only read
 * replication; a bucket's name, jurisdiction and location are fixed), so for
 * them it says only that they exist.
 */
export type FoundResource =
  | { kind: "d1" }
  | { kind: "r2" }
  | { kind: "kv"; title: string }
  | { kind: "queue"; name: string }
  | { kind: "worker"; worker: FoundWorker };

/** A Worker as the API describes it (`GET .../workers/scripts/{name}/settings`, its workers.dev route, and its queue consumers). */
export interface FoundWorker {
  /**
   * Where it answers on workers.dev, `null` when that route is off
   * (`GET .../workers/scripts/{name}/subdomain`).
   */
  url: string | null;
  compatibilityDate?: string;
  compatibilityFlags: string[];
  /** As the settings route returns them: a `secret_text` has its name and type, never its text. */
  bindings: FoundBinding[];
  /**
   * Its consumer on each queue the read asked about, in that order, with every
   * setting (Cloudflare's defaults filled in); `undefined` where it consumes
   * that queue no longer (or the queue is gone).
   */
  consumers: (QueueConsumer | undefined)[];
}

/** A binding as the API returns it: one of {@link WorkerBinding}'s shapes (a secret without its text), or one alchemy does not make. */
export type FoundBinding = { type: string; name: string } & Record<string, unknown>;

/** The result of one SQL statement on a D1 database. */
export interface D1Result<Row = Record<string, unknown>> {
  rows: Row[];
  meta: { changes: number; lastRowId: number | null; durationMs: number };
}

/** An object in an R2 bucket, as a program reads it. */
export interface R2Object {
  key: string;
  size: number;
  etag: string;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * What Cloudflare resources need of where they run. Every method is
 * idempotent where its resource's delete must be (deleting what is gone
 * succeeds). Names are physical names (see names.ts).
 */
export interface CloudflareBackend {
  readonly mode: BackendMode;

  /** Creates (or, with `adopt`, takes over) a database; resolves its id. */
  createD1Database(name: string, options: { locationHint?: string; adopt: boolean }): Promise<{ id: string }>;
  deleteD1Database(database: { name: string; id: string }): Promise<void>;
  /** Runs statements separated by `;` with no parameters (migrations, `db.exec`). */
  execD1(database: { name: string; id: string }, sql: string): Promise<void>;
  /** Runs one statement with positional parameters (`?`). */
  queryD1<Row = Record<string, unknown>>(database: { name: string; id: string }, sql: string, params?: unknown[]): Promise<D1Result<Row>>;

  createKVNamespace(title: string, options: { adopt: boolean }): Promise<{ id: string }>;
  renameKVNamespace(namespace: { id: string }, title: string): Promise<void>;
  deleteKVNamespace(namespace: { id: string; title: string }): Promise<void>;
  kvGet(namespace: { id: string }, key: string): Promise<string | null>;
  kvPut(namespace: { id: string }, key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  kvDelete(namespace: { id: string }, key: string): Promise<void>;
  kvList(namespace: { id: string }, options?: { prefix?: string }): Promise<string[]>;

  createR2Bucket(name: string, options: { locationHint?: string; jurisdiction?: string; adopt: boolean }): Promise<void>;
  /** Refuses a bucket that holds objects unless `empty` (then deletes them first). */
  deleteR2Bucket(bucket: { name: string; jurisdiction?: string }, options: { empty: boolean }): Promise<void>;
  r2Get(bucket: { name: string }, key: string): Promise<R2Object | null>;
  r2Put(bucket: { name: string }, key: string, value: string | Uint8Array): Promise<void>;
  r2Delete(bucket: { name: string }, key: string): Promise<void>;
  r2List(bucket: { name: string }, options?: { prefix?: string }): Promise<string[]>;

  createQueue(name: string, options: { adopt: boolean }): Promise<{ id: string }>;
  deleteQueue(queue: { name: string; id: string }): Promise<void>;
  /** Sends one message (a value structured clone can carry, JSON on the remote API). */
  queueSend(queue: { name: string; id: string }, body: unknown): Promise<void>;

  /**
   * For the read phase: what the API says now of a recorded resource, or
   * `undefined` when it no longer exists. Only a backend with a control plane
   * has it: locally a resource exists once declared, and is as recorded.
   */
  find?<R extends ExistingResource>(resource: R): Promise<Extract<FoundResource, { kind: R["kind"] }> | undefined>;

  /** Uploads (or replaces) a Worker version and starts serving it. */
  putWorker(spec: WorkerSpec, options: { adopt: boolean; created: boolean }): Promise<WorkerEndpoint>;
  deleteWorker(worker: { name: string }): Promise<void>;
}
