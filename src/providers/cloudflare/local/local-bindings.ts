/**
 * The parts of Miniflare's Node-side bindings the local backend uses, typed
 * here (Miniflare types them with `@cloudflare/workers-types`, which alchemy
 * does not depend on). Each object is valid until the runtime's next change.
 *
 * @module
 */

/** A D1 prepared statement. */
export interface LocalD1Statement {
  bind(...values: unknown[]): LocalD1Statement;
  all(): Promise<{ results: Record<string, unknown>[]; meta: { changes?: number; last_row_id?: number | null; duration?: number } }>;
}

/** A D1 database binding. */
export interface LocalD1Database {
  prepare(sql: string): LocalD1Statement;
  /** Runs the statements in one transaction. */
  batch(statements: LocalD1Statement[]): Promise<unknown[]>;
}

/** A KV namespace binding. */
export interface LocalKVNamespace {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
  list(options?: { prefix?: string; cursor?: string }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>;
}

/** An object of an R2 bucket, body included. */
export interface LocalR2ObjectBody {
  key: string;
  size: number;
  etag: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** An R2 bucket binding. */
export interface LocalR2Bucket {
  get(key: string): Promise<LocalR2ObjectBody | null>;
  put(key: string, value: string | Uint8Array): Promise<unknown>;
  delete(keys: string | string[]): Promise<void>;
  list(options?: { prefix?: string; cursor?: string; limit?: number }): Promise<{ objects: { key: string }[]; truncated: boolean; cursor?: string }>;
}

/** A queue producer binding. */
export interface LocalQueue {
  send(body: unknown): Promise<void>;
}

/** The binding type of each kind of resource. */
export interface LocalBindings {
  d1: LocalD1Database;
  kv: LocalKVNamespace;
  r2: LocalR2Bucket;
  queue: LocalQueue;
}
