/**
 * The fake's in-memory resources, readable by tests (`fake.state`). Every record carries the
 * account it belongs to; routes see only their account's records. Tests may read these; writing
 * them bypasses every check the routes make.
 */
import { randomBytes } from "node:crypto";
import type { Database } from "better-sqlite3";

/** An account the fake knows. */
export interface FakeAccount {
  readonly id: string;
  readonly name: string;
}

/** A binding as uploaded in a Worker's metadata (secret texts included). */
export type UploadedBinding = { readonly type: string; readonly name: string } & Record<string, unknown>;

/** One part of a Worker upload other than `metadata`. */
export interface UploadedModule {
  readonly name: string;
  readonly contentType: string;
  readonly content: Uint8Array;
}

/** An uploaded Worker script. */
export interface FakeWorker {
  readonly accountId: string;
  readonly name: string;
  readonly tag: string;
  readonly etag: string;
  readonly createdOn: string;
  modifiedOn: string;
  readonly mainModule: string;
  readonly compatibilityDate: string | undefined;
  readonly compatibilityFlags: readonly string[];
  readonly bindings: readonly UploadedBinding[];
  /** The whole `metadata` part as uploaded. */
  readonly metadata: Record<string, unknown>;
  readonly modules: readonly UploadedModule[];
  /** Whether the script answers on workers.dev. Uploads start without it. */
  subdomainEnabled: boolean;
  previewsEnabled: boolean;
}

/** A D1 database, backed by an in-memory SQLite database. */
export interface FakeD1Database {
  readonly accountId: string;
  readonly uuid: string;
  readonly name: string;
  readonly createdAt: string;
  readonly primaryLocationHint: string | undefined;
  readonly db: Database;
}

/** A value stored in a KV namespace. */
export interface FakeKvValue {
  readonly value: Uint8Array;
  /** Seconds since the epoch after which the key reads as missing. */
  readonly expiration: number | undefined;
  readonly metadata: unknown;
}

/** A KV namespace and its keys. */
export interface FakeKvNamespace {
  readonly accountId: string;
  readonly id: string;
  title: string;
  readonly values: Map<string, FakeKvValue>;
}

/** An object in an R2 bucket. */
export interface FakeR2Object {
  readonly key: string;
  readonly body: Uint8Array;
  /** MD5 of the body, hex, unquoted (R2's ETag of a single-part upload). */
  readonly etag: string;
  readonly uploaded: string;
  readonly contentType: string | undefined;
}

/** An R2 bucket. Its identity is (account, jurisdiction, name). */
export interface FakeR2Bucket {
  readonly accountId: string;
  readonly name: string;
  /** "default", "eu" or "fedramp". */
  readonly jurisdiction: string;
  readonly location: string | undefined;
  readonly storageClass: string;
  readonly creationDate: string;
  readonly objects: Map<string, FakeR2Object>;
}

/** A consumer of a queue. */
export interface FakeQueueConsumer {
  readonly consumerId: string;
  readonly type: "worker" | "http_pull";
  readonly scriptName: string | undefined;
  readonly settings: Record<string, number>;
  readonly deadLetterQueue: string | undefined;
  readonly createdOn: string;
}

/** A queue's own settings (Update Queue overwrites them). */
export interface FakeQueueSettings {
  readonly delivery_delay: number;
  readonly delivery_paused: boolean;
  readonly message_retention_period: number;
}

/** A queue and its consumers. */
export interface FakeQueue {
  readonly accountId: string;
  readonly id: string;
  /** Changed by Update Queue (`PUT .../queues/:id`). */
  name: string;
  settings: FakeQueueSettings;
  readonly createdOn: string;
  modifiedOn: string;
  readonly consumers: FakeQueueConsumer[];
  /** Bodies sent with `POST .../queues/:id/messages`, in order (nothing consumes them). */
  readonly messages: unknown[];
}

/** The kinds whose GET can be scripted to 404 right after creation. */
export type VisibilityKind = "worker" | "d1_database" | "kv_namespace" | "r2_bucket" | "queue";

/** Everything the fake holds. Maps are keyed as their comments say. */
export interface FakeState {
  readonly accounts: FakeAccount[];
  /** By account id: the account's workers.dev subdomain. */
  readonly subdomains: Map<string, string>;
  /** By `${accountId}/${name}`. */
  readonly workers: Map<string, FakeWorker>;
  /** By uuid. */
  readonly d1Databases: Map<string, FakeD1Database>;
  /** By id. */
  readonly kvNamespaces: Map<string, FakeKvNamespace>;
  /** By `${accountId}/${jurisdiction}/${name}`. */
  readonly r2Buckets: Map<string, FakeR2Bucket>;
  /** By id. */
  readonly queues: Map<string, FakeQueue>;
  /** When each resource was created (ms since the epoch), by `${kind}:${key of its map}`. */
  readonly createdAt: Map<string, number>;
}

/** An empty state over `accounts`, each with a workers.dev subdomain made from its name. */
export function emptyState(accounts: readonly FakeAccount[]): FakeState {
  const subdomains = new Map(accounts.map((account) => [account.id, subdomainOf(account.name)]));
  return {
    accounts: [...accounts],
    subdomains,
    workers: new Map(),
    d1Databases: new Map(),
    kvNamespaces: new Map(),
    r2Buckets: new Map(),
    queues: new Map(),
    createdAt: new Map(),
  };
}

/** Empties `state` in place, closing the SQLite databases; accounts and subdomains stay. */
export function clearState(state: FakeState): void {
  for (const database of state.d1Databases.values()) database.db.close();
  state.workers.clear();
  state.d1Databases.clear();
  state.kvNamespaces.clear();
  state.r2Buckets.clear();
  state.queues.clear();
  state.createdAt.clear();
}

/** The key of a Worker in {@link FakeState.workers}. */
export function workerKey(accountId: string, name: string): string {
  return `${accountId}/${name}`;
}

/** The key of a bucket in {@link FakeState.r2Buckets}. */
export function bucketKey(accountId: string, jurisdiction: string, name: string): string {
  return `${accountId}/${jurisdiction}/${name}`;
}

function subdomainOf(accountName: string): string {
  return accountName.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "account";
}

/** A new 32-hex-digit id, the shape of Cloudflare's KV, queue and tag ids. */
export function newHexId(): string {
  return randomBytes(16).toString("hex");
}

/** Now, as the ISO 8601 timestamp Cloudflare returns. */
export function nowIso(): string {
  return new Date().toISOString();
}
