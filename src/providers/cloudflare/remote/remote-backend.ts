/**
 * The remote backend: Cloudflare resources through the REST API v4, with one
 * {@link CloudflareApi} (auth, envelope, retries, rate limits) per set of
 * credentials. "Already exists" is an error naming the resource and `--adopt`,
 * unless the run adopts; deleting what is gone succeeds.
 *
 * @module
 */
import { AlchemyError } from "../../../core/errors.js";
import type { CloudflareBackend, D1Result, ExistingResource, FoundBinding, FoundResource, FoundWorker, QueueConsumer, R2Object, WorkerEndpoint, WorkerSpec } from "../backend.js";
import type { CloudflareApi, RequestBody } from "./api-client.js";
import { CloudflareApiError } from "./api-error.js";

/** How long a thing just created may answer 404 ("not visible yet"). */
const VISIBLE_WITHIN_MS = 10_000;

/** A resource that exists already, and the run does not adopt. */
export class AlreadyExistsError extends AlchemyError {
  override name = "AlreadyExistsError";
}

function alreadyExists(kind: string, name: string, cause?: unknown): AlreadyExistsError {
  return new AlreadyExistsError(
    `${kind} ${name} already exists in the Cloudflare account. To take it over as it is, deploy with --adopt (option adopt: true); ` +
      "otherwise give this resource another name (the name prop), or delete the existing one.",
    cause === undefined ? undefined : { cause },
  );
}

const CONTENT_TYPES = {
  esm: "application/javascript+module",
  text: "text/plain",
  wasm: "application/wasm",
  sourcemap: "application/source-map",
} as const;

interface D1Row {
  uuid: string;
  name: string;
}
interface KVRow {
  id: string;
  title: string;
}
interface QueueRow {
  queue_id: string;
  queue_name: string;
}
/** `GET .../workers/scripts/{name}/settings`, the fields the read compares. */
interface SettingsRow {
  compatibility_date?: string;
  compatibility_flags?: string[];
  bindings?: FoundBinding[];
}
interface ConsumerRow {
  consumer_id?: string;
  queue_name?: string;
  script_name?: string;
  script?: string;
  type?: string;
  settings?: Partial<Record<"batch_size" | "max_retries" | "max_wait_time_ms", number>>;
  dead_letter_queue?: string;
}

export class RemoteBackend implements CloudflareBackend {
  readonly mode = "remote" as const;
  #subdomain?: Promise<string>;

  constructor(readonly api: CloudflareApi) {}

  async #path(suffix: string): Promise<string> {
    return this.api.accountPath(suffix);
  }

  // D1

  async createD1Database(name: string, options: { locationHint?: string; adopt: boolean }): Promise<{ id: string }> {
    try {
      const row = await this.api.request<D1Row>("POST", await this.#path("/d1/database"), {
        json: { name, ...(options.locationHint ? { primary_location_hint: options.locationHint } : {}) },
      });
      return { id: row.uuid };
    } catch (error) {
      if (!(error instanceof CloudflareApiError) || !error.hasError("already exists")) throw error;
      const existing = (await this.api.paginate<D1Row>(await this.#path("/d1/database"), { name })).find((db) => db.name === name);
      if (existing && (options.adopt || error.attempts > 1)) return { id: existing.uuid };
      throw alreadyExists("D1 database", name, error);
    }
  }

  async deleteD1Database(database: { id: string }): Promise<void> {
    await this.api.request("DELETE", await this.#path(`/d1/database/${database.id}`), { notFound: "null" });
  }

  async execD1(database: { id: string }, sql: string): Promise<void> {
    await this.api.request("POST", await this.#path(`/d1/database/${database.id}/query`), { json: { sql }, visibleWithinMs: VISIBLE_WITHIN_MS });
  }

  async queryD1<Row = Record<string, unknown>>(database: { id: string }, sql: string, params: unknown[] = []): Promise<D1Result<Row>> {
    const results = await this.api.request<{ results?: Row[]; meta?: { changes?: number; last_row_id?: number; duration?: number } }[]>(
      "POST",
      await this.#path(`/d1/database/${database.id}/query`),
      { json: { sql, params }, visibleWithinMs: VISIBLE_WITHIN_MS },
    );
    const last = results.at(-1) ?? {};
    return {
      rows: last.results ?? [],
      meta: { changes: last.meta?.changes ?? 0, lastRowId: last.meta?.last_row_id ?? null, durationMs: last.meta?.duration ?? 0 },
    };
  }

  // KV

  async createKVNamespace(title: string, options: { adopt: boolean }): Promise<{ id: string }> {
    try {
      return { id: (await this.api.request<KVRow>("POST", await this.#path("/storage/kv/namespaces"), { json: { title } })).id };
    } catch (error) {
      if (!(error instanceof CloudflareApiError) || !(error.hasError(10014) || error.hasError("already exists"))) throw error;
      const existing = (await this.api.paginate<KVRow>(await this.#path("/storage/kv/namespaces"))).find((ns) => ns.title === title);
      if (existing && (options.adopt || error.attempts > 1)) return { id: existing.id };
      throw alreadyExists("KV namespace", title, error);
    }
  }

  async renameKVNamespace(namespace: { id: string }, title: string): Promise<void> {
    await this.api.request("PUT", await this.#path(`/storage/kv/namespaces/${namespace.id}`), { json: { title } });
  }

  async deleteKVNamespace(namespace: { id: string }): Promise<void> {
    await this.api.request("DELETE", await this.#path(`/storage/kv/namespaces/${namespace.id}`), { notFound: "null" });
  }

  async kvGet(namespace: { id: string }, key: string): Promise<string | null> {
    return this.api.request<string | null>("GET", await this.#path(`/storage/kv/namespaces/${namespace.id}/values/${encodeURIComponent(key)}`), { raw: "text", notFound: "null" });
  }

  async kvPut(namespace: { id: string }, key: string, value: string, options?: { expirationTtl?: number }): Promise<void> {
    await this.api.request("PUT", await this.#path(`/storage/kv/namespaces/${namespace.id}/values/${encodeURIComponent(key)}`), {
      body: value,
      headers: { "content-type": "text/plain" },
      query: { expiration_ttl: options?.expirationTtl },
    });
  }

  async kvDelete(namespace: { id: string }, key: string): Promise<void> {
    await this.api.request("DELETE", await this.#path(`/storage/kv/namespaces/${namespace.id}/values/${encodeURIComponent(key)}`), { notFound: "null" });
  }

  async kvList(namespace: { id: string }, options?: { prefix?: string }): Promise<string[]> {
    const keys = await this.api.paginate<{ name: string }>(await this.#path(`/storage/kv/namespaces/${namespace.id}/keys`), { prefix: options?.prefix });
    return keys.map((k) => k.name);
  }

  // R2

  #jurisdiction(jurisdiction: string | undefined): Record<string, string> {
    return jurisdiction ? { "cf-r2-jurisdiction": jurisdiction } : {};
  }

  async createR2Bucket(name: string, options: { locationHint?: string; jurisdiction?: string; adopt: boolean }): Promise<void> {
    try {
      await this.api.request("POST", await this.#path("/r2/buckets"), {
        json: { name, ...(options.locationHint ? { locationHint: options.locationHint } : {}) },
        headers: this.#jurisdiction(options.jurisdiction),
      });
    } catch (error) {
      if (!(error instanceof CloudflareApiError) || !(error.status === 409 || error.hasError("already exists"))) throw error;
      if (!options.adopt && error.attempts <= 1) throw alreadyExists("R2 bucket", name, error);
    }
  }

  async deleteR2Bucket(bucket: { name: string; jurisdiction?: string }, options: { empty: boolean }): Promise<void> {
    const headers = this.#jurisdiction(bucket.jurisdiction);
    if (options.empty) {
      let keys: string[];
      try {
        keys = await this.r2List(bucket);
      } catch (error) {
        if (error instanceof CloudflareApiError && error.notFound) return; // gone already: deleting what is gone succeeds
        throw error;
      }
      for (const key of keys) await this.r2Delete(bucket, key);
    }
    try {
      await this.api.request("DELETE", await this.#path(`/r2/buckets/${bucket.name}`), { headers, notFound: "null" });
    } catch (error) {
      if (error instanceof CloudflareApiError && error.status === 409) {
        throw new AlchemyError(
          `R2 bucket ${bucket.name} still holds objects, so it was not deleted and stays in state. ` +
            "Delete its objects, or set empty: true on the R2Bucket to delete them with it, then run again.",
          { cause: error },
        );
      }
      throw error;
    }
  }

  // Object routes, like bucket routes, find a bucket of a jurisdiction only with its header.

  async r2Get(bucket: { name: string; jurisdiction?: string }, key: string): Promise<R2Object | null> {
    const bytes = await this.api.request<Uint8Array | null>("GET", await this.#path(`/r2/buckets/${bucket.name}/objects/${encodeKey(key)}`), {
      raw: "bytes",
      notFound: "null",
      headers: this.#jurisdiction(bucket.jurisdiction),
    });
    if (bytes === null) return null;
    const copy = new Uint8Array(bytes);
    return {
      key,
      size: copy.byteLength,
      etag: "",
      text: async () => new TextDecoder().decode(copy),
      arrayBuffer: async () => copy.buffer.slice(copy.byteOffset, copy.byteOffset + copy.byteLength) as ArrayBuffer,
    };
  }

  async r2Put(bucket: { name: string; jurisdiction?: string }, key: string, value: string | Uint8Array): Promise<void> {
    await this.api.request("PUT", await this.#path(`/r2/buckets/${bucket.name}/objects/${encodeKey(key)}`), {
      body: value as RequestBody,
      headers: this.#jurisdiction(bucket.jurisdiction),
    });
  }

  async r2Delete(bucket: { name: string; jurisdiction?: string }, key: string): Promise<void> {
    await this.api.request("DELETE", await this.#path(`/r2/buckets/${bucket.name}/objects/${encodeKey(key)}`), {
      notFound: "null",
      headers: this.#jurisdiction(bucket.jurisdiction),
    });
  }

  async r2List(bucket: { name: string; jurisdiction?: string }, options?: { prefix?: string }): Promise<string[]> {
    const objects = await this.api.paginate<{ key: string }>(
      await this.#path(`/r2/buckets/${bucket.name}/objects`),
      { prefix: options?.prefix },
      { headers: this.#jurisdiction(bucket.jurisdiction) },
    );
    return objects.map((o) => o.key);
  }

  // Queues

  async #queues(): Promise<QueueRow[]> {
    return this.api.paginate<QueueRow>(await this.#path("/queues"));
  }

  async createQueue(name: string, options: { adopt: boolean }): Promise<{ id: string }> {
    try {
      return { id: (await this.api.request<QueueRow>("POST", await this.#path("/queues"), { json: { queue_name: name } })).queue_id };
    } catch (error) {
      if (!(error instanceof CloudflareApiError) || !(error.status === 409 || error.hasError("already exists"))) throw error;
      const existing = (await this.#queues()).find((q) => q.queue_name === name);
      if (existing && (options.adopt || error.attempts > 1)) return { id: existing.queue_id };
      throw alreadyExists("Queue", name, error);
    }
  }

  async deleteQueue(queue: { id: string }): Promise<void> {
    await this.api.request("DELETE", await this.#path(`/queues/${queue.id}`), { notFound: "null" });
  }

  async queueSend(queue: { id: string }, body: unknown): Promise<void> {
    await this.api.request("POST", await this.#path(`/queues/${queue.id}/messages`), { json: { body } });
  }

  async find<R extends ExistingResource>(resource: R): Promise<Extract<FoundResource, { kind: R["kind"] }> | undefined> {
    return (await this.#find(resource)) as Extract<FoundResource, { kind: R["kind"] }> | undefined;
  }

  async #find(resource: ExistingResource): Promise<FoundResource | undefined> {
    const get = async <T>(suffix: string, headers: Record<string, string> = {}) => this.api.request<T | null>("GET", await this.#path(suffix), { notFound: "null", headers });
    switch (resource.kind) {
      case "d1":
        return (await get(`/d1/database/${resource.id}`)) === null ? undefined : { kind: "d1" };
      case "kv": {
        const namespace = await get<KVRow>(`/storage/kv/namespaces/${resource.id}`);
        return namespace === null ? undefined : { kind: "kv", title: namespace.title };
      }
      case "r2":
        return (await get(`/r2/buckets/${resource.name}`, this.#jurisdiction(resource.jurisdiction))) === null ? undefined : { kind: "r2" };
      case "queue": {
        const queue = await get<QueueRow>(`/queues/${resource.id}`);
        return queue === null ? undefined : { kind: "queue", name: queue.queue_name };
      }
      case "worker": {
        const settings = await get<SettingsRow>(`/workers/scripts/${resource.name}/settings`);
        if (settings === null) return undefined;
        const route = await get<{ enabled?: boolean }>(`/workers/scripts/${resource.name}/subdomain`); // see #setWorkersDev
        if (route === null) return undefined; // deleted since the settings were read
        const consumers: FoundWorker["consumers"] = [];
        for (const queueId of resource.queues) consumers.push(await this.#consumerOf(resource.name, queueId));
        return {
          kind: "worker",
          worker: {
            url: route.enabled ? await this.#workersDevUrl(resource.name) : null,
            ...(settings.compatibility_date ? { compatibilityDate: settings.compatibility_date } : {}),
            compatibilityFlags: settings.compatibility_flags ?? [],
            bindings: settings.bindings ?? [],
            consumers,
          },
        };
      }
    }
  }

  /** The consumer `script` has on queue `queueId`, with every setting; `undefined` when it has none, or the queue is gone. */
  async #consumerOf(script: string, queueId: string): Promise<QueueConsumer | undefined> {
    let rows: ConsumerRow[];
    try {
      rows = await this.api.paginate<ConsumerRow>(await this.#path(`/queues/${queueId}/consumers`));
    } catch (error) {
      if (error instanceof CloudflareApiError && error.notFound) return undefined;
      throw error;
    }
    const row = rows.find((c) => (c.script_name ?? c.script) === script);
    if (row === undefined) return undefined;
    const settings = { ...CONSUMER_DEFAULTS, ...(row.settings ?? {}) };
    return {
      queue: row.queue_name ?? "",
      maxBatchSize: settings.batch_size,
      maxBatchTimeout: settings.max_wait_time_ms / 1000,
      maxRetries: settings.max_retries,
      ...(row.dead_letter_queue ? { deadLetterQueue: row.dead_letter_queue } : {}),
    };
  }

  // Workers

  async putWorker(spec: WorkerSpec, options: { adopt: boolean; created: boolean }): Promise<WorkerEndpoint> {
    const [main] = spec.modules;
    if (main === undefined) throw new AlchemyError(`Worker ${spec.name} has no module to upload.`);
    // An upload replaces a script of that name without a word: look first, so that a create never overwrites someone else's Worker.
    if (options.created && !options.adopt) {
      const existing = await this.api.request("GET", await this.#path(`/workers/scripts/${spec.name}/settings`), { notFound: "null" });
      if (existing !== null) throw alreadyExists("Worker", spec.name);
    }
    const form = new FormData();
    const metadata = {
      main_module: main.name,
      compatibility_date: spec.compatibilityDate,
      compatibility_flags: spec.compatibilityFlags,
      bindings: spec.bindings,
    };
    form.append("metadata", new Blob([JSON.stringify(metadata)], { type: "application/json" }));
    for (const module of spec.modules) {
      form.append(module.name, new Blob([typeof module.contents === "string" ? module.contents : new Uint8Array(module.contents)], { type: CONTENT_TYPES[module.type] }), module.name);
    }
    await this.api.request("PUT", await this.#path(`/workers/scripts/${spec.name}`), { body: form });
    await this.#syncConsumers(spec);
    await this.#setWorkersDev(spec.name, spec.url);
    return spec.url ? { url: await this.#workersDevUrl(spec.name) } : {};
  }

  /**
   * Turns the script's workers.dev route on or off as `enabled` says, unless
   * it is so already: on every put, so that an update to `url` (or a route
   * switched in the dashboard, or an adopted script's) follows the program.
   * `POST .../subdomain {enabled:true}` is in our reference notes; `{enabled:false}`
   * and the GET are from Cloudflare's API schema ("Enable or disable the Worker
   * on the workers.dev subdomain", "Get if the Worker is available on the
   * workers.dev subdomain"), which the notes do not list: tested against the fake only.
   */
  async #setWorkersDev(script: string, enabled: boolean): Promise<void> {
    const path = await this.#path(`/workers/scripts/${script}/subdomain`);
    const current = await this.api.request<{ enabled?: boolean }>("GET", path, { visibleWithinMs: VISIBLE_WITHIN_MS });
    if ((current.enabled ?? false) === enabled) return;
    await this.api.request("POST", path, { json: { enabled }, visibleWithinMs: VISIBLE_WITHIN_MS });
  }

  async #workersDevUrl(script: string): Promise<string> {
    return `https://${script}.${await this.#workersSubdomain()}.workers.dev/`;
  }

  async deleteWorker(worker: { name: string }): Promise<void> {
    await this.#syncConsumers({ name: worker.name, queueConsumers: [] });
    await this.api.request("DELETE", await this.#path(`/workers/scripts/${worker.name}`), { notFound: "null" });
  }

  #workersSubdomain(): Promise<string> {
    this.#subdomain ??= this.#path("/workers/subdomain").then((p) => this.api.request<{ subdomain: string }>("GET", p)).then((r) => r.subdomain);
    return this.#subdomain;
  }

  /**
   * Makes the Worker the consumer of exactly the queues its spec names, with
   * their settings: a consumer whose settings differ is made again (the API
   * has no partial update we rely on), one of a queue no longer named is removed.
   */
  async #syncConsumers(spec: Pick<WorkerSpec, "name" | "queueConsumers">): Promise<void> {
    const queues = await this.#queues();
    const wanted = new Map(spec.queueConsumers.map((c) => [c.queue, c]));
    for (const name of wanted.keys()) {
      if (!queues.some((q) => q.queue_name === name)) {
        throw new AlchemyError(`Worker ${spec.name} consumes queue ${name}, which does not exist in the Cloudflare account. Declare the Queue before the Worker.`);
      }
    }
    for (const queue of queues) {
      const consumers = await this.api.paginate<ConsumerRow>(await this.#path(`/queues/${queue.queue_id}/consumers`));
      const mine = consumers.filter((c) => (c.script_name ?? c.script) === spec.name);
      const want = wanted.get(queue.queue_name);
      const body = want && consumerBody(spec.name, want);
      let current = false;
      for (const consumer of mine) {
        if (body !== undefined && !current && sameConsumer(consumer, body)) {
          current = true;
          continue;
        }
        if (consumer.consumer_id) {
          await this.api.request("DELETE", await this.#path(`/queues/${queue.queue_id}/consumers/${consumer.consumer_id}`), { notFound: "null" });
        }
      }
      if (body !== undefined && !current) {
        await this.api.request("POST", await this.#path(`/queues/${queue.queue_id}/consumers`), { json: body });
      }
    }
  }
}

/** Cloudflare's defaults for a Worker consumer's settings (documented), so that a setting left out compares equal to its default. */
const CONSUMER_DEFAULTS = { batch_size: 10, max_retries: 3, max_wait_time_ms: 5000 };

interface ConsumerBody {
  script_name: string;
  type: "worker";
  /** Only the settings the program gives; Cloudflare applies its defaults to the rest. */
  settings: Partial<typeof CONSUMER_DEFAULTS>;
  dead_letter_queue?: string;
}

function consumerBody(script: string, want: WorkerSpec["queueConsumers"][number]): ConsumerBody {
  return {
    script_name: script,
    type: "worker",
    settings: {
      ...(want.maxBatchSize !== undefined ? { batch_size: want.maxBatchSize } : {}),
      ...(want.maxRetries !== undefined ? { max_retries: want.maxRetries } : {}),
      ...(want.maxBatchTimeout !== undefined ? { max_wait_time_ms: want.maxBatchTimeout * 1000 } : {}),
    },
    ...(want.deadLetterQueue ? { dead_letter_queue: want.deadLetterQueue } : {}),
  };
}

function sameConsumer(consumer: ConsumerRow, body: ConsumerBody): boolean {
  const has = { ...CONSUMER_DEFAULTS, ...(consumer.settings ?? {}) };
  const wants = { ...CONSUMER_DEFAULTS, ...body.settings };
  return (
    (Object.keys(CONSUMER_DEFAULTS) as (keyof typeof CONSUMER_DEFAULTS)[]).every((key) => has[key] === wants[key]) &&
    (consumer.dead_letter_queue || undefined) === body.dead_letter_queue // "" lists "none", as a missing field does
  );
}

/** An R2 key in a URL path: each segment encoded, the slashes kept. */
function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}
