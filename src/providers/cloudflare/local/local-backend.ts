/**
 * The `local` {@link CloudflareBackend}: every Cloudflare resource runs on
 * this machine, in the process's {@link LocalRuntime} (Miniflare).
 *
 * Locally there is no control plane: a resource exists once declared, its id
 * is derived from its name (the same name finds the same data in every run),
 * `adopt` changes nothing (creating what exists takes it over), and locations
 * and jurisdictions are ignored. Deleting a D1 database, KV namespace or R2
 * bucket deletes its data on disk. It has no `find`: a refresh takes every
 * local record as it is.
 *
 * @module
 */
import type { BackendMode, CloudflareBackend, D1Result, R2Object, WorkerEndpoint, WorkerSpec } from "../backend.js";
import { localId } from "./local-id.js";
import { LocalRuntimeError } from "./local-runtime-error.js";
import type { LocalRuntime } from "./local-runtime.js";
import { hasPersistedData } from "./persisted-data.js";
import { splitSql } from "./split-sql.js";

/**
 * Cloudflare resources on the local runtime. Failures of SQL, KV, R2 and
 * queue calls are {@link LocalRuntimeError}s (`operation-failed`) naming the
 * resource, with Miniflare's error as `cause`.
 *
 * @example
 * const backend = new LocalBackend(new LocalRuntime({ persistRoot, warn }));
 * const { id } = await backend.createD1Database("my-app-db", { adopt: false });
 * await backend.execD1({ name: "my-app-db", id }, "CREATE TABLE t (a TEXT);");
 */
export class LocalBackend implements CloudflareBackend {
  readonly mode: BackendMode = "local";

  constructor(
    /** The runtime everything runs on; this backend disposes it. */
    readonly runtime: LocalRuntime,
  ) {}

  /** Stops the runtime (see {@link LocalRuntime.dispose}). */
  dispose(): Promise<void> {
    return this.runtime.dispose();
  }

  async createD1Database(name: string, _options: { locationHint?: string; adopt: boolean }): Promise<{ id: string }> {
    const id = localId(name);
    await this.runtime.declare("d1", id);
    return { id };
  }

  async deleteD1Database(database: { name: string; id: string }): Promise<void> {
    await this.runtime.deleteData("d1", database.id);
  }

  async execD1(database: { name: string; id: string }, sql: string): Promise<void> {
    const statements = splitSql(sql);
    if (statements.length === 0) return;
    await this.#call(`D1 database "${database.name}"`, () =>
      this.runtime.use("d1", database.id, async (db) => {
        await db.batch(statements.map((statement) => db.prepare(statement)));
      }),
    );
  }

  async queryD1<Row = Record<string, unknown>>(database: { name: string; id: string }, sql: string, params: unknown[] = []): Promise<D1Result<Row>> {
    const result = await this.#call(`D1 database "${database.name}"`, () =>
      this.runtime.use("d1", database.id, (db) => (params.length > 0 ? db.prepare(sql).bind(...params) : db.prepare(sql)).all()),
    );
    return {
      rows: result.results as Row[],
      meta: { changes: result.meta.changes ?? 0, lastRowId: result.meta.last_row_id ?? null, durationMs: result.meta.duration ?? 0 },
    };
  }

  async createKVNamespace(title: string, _options: { adopt: boolean }): Promise<{ id: string }> {
    const id = localId(title);
    await this.runtime.declare("kv", id);
    return { id };
  }

  /** Locally a namespace is known by its id only: nothing to rename. */
  async renameKVNamespace(_namespace: { id: string }, _title: string): Promise<void> {}

  async deleteKVNamespace(namespace: { id: string; title: string }): Promise<void> {
    await this.runtime.deleteData("kv", namespace.id);
  }

  kvGet(namespace: { id: string }, key: string): Promise<string | null> {
    return this.#call(`KV namespace "${namespace.id}"`, () => this.runtime.use("kv", namespace.id, (kv) => kv.get(key)));
  }

  kvPut(namespace: { id: string }, key: string, value: string, options?: { expirationTtl?: number }): Promise<void> {
    const putOptions = options?.expirationTtl === undefined ? undefined : { expirationTtl: options.expirationTtl };
    return this.#call(`KV namespace "${namespace.id}"`, () => this.runtime.use("kv", namespace.id, (kv) => kv.put(key, value, putOptions)));
  }

  kvDelete(namespace: { id: string }, key: string): Promise<void> {
    return this.#call(`KV namespace "${namespace.id}"`, () => this.runtime.use("kv", namespace.id, (kv) => kv.delete(key)));
  }

  kvList(namespace: { id: string }, options?: { prefix?: string }): Promise<string[]> {
    return this.#call(`KV namespace "${namespace.id}"`, () =>
      this.runtime.use("kv", namespace.id, async (kv) => {
        const keys: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await kv.list({ ...(options?.prefix === undefined ? {} : { prefix: options.prefix }), ...(cursor === undefined ? {} : { cursor }) });
          keys.push(...page.keys.map((key) => key.name));
          if (page.list_complete || !page.cursor) return keys;
          cursor = page.cursor;
        }
      }),
    );
  }

  async createR2Bucket(name: string, _options: { locationHint?: string; jurisdiction?: string; adopt: boolean }): Promise<void> {
    await this.runtime.declare("r2", name);
  }

  async deleteR2Bucket(bucket: { name: string; jurisdiction?: string }, options: { empty: boolean }): Promise<void> {
    // Never declared and nothing on disk: gone already, no need to start workerd to find out.
    if (!this.runtime.isDeclared("r2", bucket.name) && !hasPersistedData(this.runtime.persistRoot, "r2", bucket.name)) return;
    const keys = await this.r2List(bucket);
    if (keys.length > 0 && !options.empty) {
      throw new LocalRuntimeError(
        `R2 bucket "${bucket.name}" cannot be deleted: it holds ${keys.length} object${keys.length === 1 ? "" : "s"} (e.g. "${keys[0]}"). ` +
          "Delete them first, or set empty: true on the bucket to delete its objects with it.",
        "bucket-not-empty",
        `R2 bucket "${bucket.name}"`,
      );
    }
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      await this.#call(`R2 bucket "${bucket.name}"`, () => this.runtime.use("r2", bucket.name, (r2) => r2.delete(chunk)));
    }
    await this.runtime.deleteData("r2", bucket.name);
  }

  r2Get(bucket: { name: string }, key: string): Promise<R2Object | null> {
    return this.#call(`R2 bucket "${bucket.name}"`, () =>
      this.runtime.use("r2", bucket.name, async (r2) => {
        const object = await r2.get(key);
        if (object === null) return null;
        // The body is read now: the binding is invalid after the runtime's next change.
        const body = new Uint8Array(await object.arrayBuffer());
        return {
          key: object.key,
          size: object.size,
          etag: object.etag,
          text: async () => new TextDecoder().decode(body),
          arrayBuffer: async () => body.slice().buffer,
        };
      }),
    );
  }

  r2Put(bucket: { name: string }, key: string, value: string | Uint8Array): Promise<void> {
    return this.#call(`R2 bucket "${bucket.name}"`, () =>
      this.runtime.use("r2", bucket.name, async (r2) => {
        await r2.put(key, value);
      }),
    );
  }

  r2Delete(bucket: { name: string }, key: string): Promise<void> {
    return this.#call(`R2 bucket "${bucket.name}"`, () => this.runtime.use("r2", bucket.name, (r2) => r2.delete(key)));
  }

  r2List(bucket: { name: string }, options?: { prefix?: string }): Promise<string[]> {
    return this.#call(`R2 bucket "${bucket.name}"`, () =>
      this.runtime.use("r2", bucket.name, async (r2) => {
        const keys: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await r2.list({ ...(options?.prefix === undefined ? {} : { prefix: options.prefix }), ...(cursor === undefined ? {} : { cursor }) });
          keys.push(...page.objects.map((object) => object.key));
          if (!page.truncated || !page.cursor) return keys;
          cursor = page.cursor;
        }
      }),
    );
  }

  async createQueue(name: string, _options: { adopt: boolean }): Promise<{ id: string }> {
    await this.runtime.declare("queue", name);
    return { id: localId(name) };
  }

  async deleteQueue(queue: { name: string; id: string }): Promise<void> {
    await this.runtime.forget("queue", queue.name);
  }

  queueSend(queue: { name: string; id: string }, body: unknown): Promise<void> {
    return this.#call(`queue "${queue.name}"`, () => this.runtime.use("queue", queue.name, (producer) => producer.send(body)));
  }

  putWorker(spec: WorkerSpec, _options: { adopt: boolean; created: boolean }): Promise<WorkerEndpoint> {
    return this.runtime.putWorker(spec);
  }

  deleteWorker(worker: { name: string }): Promise<void> {
    return this.runtime.deleteWorker(worker.name);
  }

  /** Runs a data call, naming `subject` in its failure. */
  async #call<T>(subject: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof LocalRuntimeError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new LocalRuntimeError(`${subject} (local): ${message}`, "operation-failed", subject, { cause: error });
    }
  }
}
