/**
 * Cloudflare resources: {@link Worker}, {@link D1Database}, {@link KVNamespace},
 * {@link R2Bucket} and {@link Queue}. In a local run (`alchemy dev`,
 * `alchemy deploy --local`, `local: true`, `ALCHEMY_LOCAL=1`) they run on
 * Miniflare on this machine. Needs the optional dependencies `miniflare` and
 * `esbuild`; neither is loaded until a Cloudflare resource is used.
 *
 * @example
 * import { D1Database, Worker } from "alchemy/cloudflare";
 * const db = await D1Database("api-db", { migrationsDir: "./migrations" });
 * const api = await Worker("api-worker", { script: "./src/api/index.ts", bindings: { DB: db } });
 *
 * @module
 */
export { Worker, DEFAULT_COMPATIBILITY_DATE, type WorkerProps, type WorkerMethods, type EventSource } from "./worker.js";
export { D1Database, type D1DatabaseProps, type D1DatabaseMethods } from "./d1-database.js";
export { KVNamespace, type KVNamespaceProps, type KVNamespaceMethods } from "./kv-namespace.js";
export { R2Bucket, type R2BucketProps, type R2BucketMethods } from "./r2-bucket.js";
export { Queue, type QueueProps, type QueueMethods } from "./queue.js";
export type { BindingValue } from "./bindings.js";
export type { D1Result, R2Object, BackendMode } from "./backend.js";
export { physicalName } from "./names.js";
