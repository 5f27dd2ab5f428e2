/**
 * A Worker's recorded props as the API describes the Worker now, for its
 * read: what alchemy uploads (compatibility date and flags, bindings), its
 * workers.dev route (`url`) and the queue consumers it keeps to
 * `eventSources`, each in the props' terms, so that a refresh reports
 * `bindings.GREETING: "hello" -> "edited"` and a deploy puts back what differs.
 *
 * Not compared: the script's code (the API's etag is not a hash alchemy can
 * compute from its bundle), a secret's text (the API never returns it: only
 * that the secret is there), and an R2 binding's jurisdiction (a binding is
 * matched by its bucket's name).
 *
 * @module
 */
import { jsonEqual } from "../../core/props.js";
import { isSecret } from "../../core/secrets/secret.js";
import type { FoundBinding, FoundWorker, QueueConsumer } from "./backend.js";

/** The props of a Worker record the read compares. */
export interface ComparedWorkerProps {
  bindings?: Record<string, unknown>;
  eventSources?: unknown[];
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  /** @default true */
  url?: boolean;
}

/** What the record says the Worker was uploaded with, where the props leave it to a default. */
export interface RecordedUpload {
  compatibilityDate: string;
  /** The consumer each of `eventSources` asks for, in order, as the upload spells it. */
  consumers: QueueConsumer[];
}

/** Cloudflare's documented defaults of a Worker consumer's settings, in {@link QueueConsumer}'s terms. */
const CONSUMER_DEFAULTS = { maxBatchSize: 10, maxBatchTimeout: 5, maxRetries: 3 } as const;

/**
 * `props` with what `found` says instead, where they differ; `props` itself
 * (the same values) where the Worker is as recorded.
 *
 * @example
 * workerPropsAsFound({ bindings: { GREETING: "hello" } }, { bindings: [{ type: "plain_text", name: "GREETING", text: "edited" }], ... }, recorded);
 * // { bindings: { GREETING: "edited" } }
 */
export function workerPropsAsFound<P extends ComparedWorkerProps>(props: P, found: FoundWorker, recorded: RecordedUpload): P {
  const result: P = { ...props };
  if (found.compatibilityDate !== recorded.compatibilityDate) {
    if (found.compatibilityDate === undefined) delete result.compatibilityDate;
    else result.compatibilityDate = found.compatibilityDate;
  }
  const routed = found.url !== null;
  if ((props.url ?? true) !== routed) result.url = routed;
  const flags = props.compatibilityFlags ?? [];
  if (!jsonEqual([...flags].sort(), [...found.compatibilityFlags].sort())) result.compatibilityFlags = found.compatibilityFlags;
  const bindings = bindingsAsFound(props.bindings ?? {}, found.bindings);
  if (!jsonEqual(bindings, props.bindings ?? {})) result.bindings = bindings;
  const sources = props.eventSources ?? [];
  const asFound = sources.flatMap((source, i) => sourceAsFound(source, recorded.consumers[i], found.consumers[i]));
  if (!jsonEqual(asFound, sources)) result.eventSources = asFound;
  return result;
}

/**
 * The recorded bindings as found: each as recorded when the API's binding of
 * that name is what it uploads, else in the API's terms; the ones the API no
 * longer has left out, the ones it has besides added.
 */
function bindingsAsFound(recorded: Record<string, unknown>, found: FoundBinding[]): Record<string, unknown> {
  const byName = new Map(found.map((binding) => [binding.name, binding]));
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(recorded)) {
    const binding = byName.get(name);
    if (binding !== undefined) result[name] = valueAsFound(value, binding);
  }
  for (const binding of found) if (!Object.hasOwn(recorded, binding.name)) result[binding.name] = apiValue(binding);
  return result;
}

/**
 * The field each resource binding names its target by, and the field of the
 * bound resource's output it holds. The record keeps a bound resource's
 * output without its kind, so a binding is matched by that field.
 */
const TARGETS: Record<string, { api: readonly string[]; output: string }> = {
  d1: { api: ["id", "database_id"], output: "id" },
  kv_namespace: { api: ["namespace_id"], output: "id" },
  r2_bucket: { api: ["bucket_name"], output: "name" },
  queue: { api: ["queue_name"], output: "name" },
  service: { api: ["service"], output: "name" },
};

function valueAsFound(value: unknown, binding: FoundBinding): unknown {
  switch (binding.type) {
    case "plain_text":
      return value === binding.text ? value : binding.text;
    case "secret_text":
      // Its text never comes back: a secret is as recorded while a secret of that name is there.
      return isSecret(value) ? value : apiValue(binding);
    case "json":
      return typeof value !== "string" && !isSecret(value) && jsonEqual(value, binding.json) ? value : apiValue(binding);
  }
  const target = TARGETS[binding.type];
  const id = target?.api.map((field) => binding[field]).find((v) => typeof v === "string");
  if (target === undefined || id === undefined || !isRecord(value) || typeof value[target.output] !== "string") return apiValue(binding);
  return value[target.output] === id ? value : { ...value, [target.output]: id };
}

/** A binding alchemy did not make, in the props' terms where there are some: plain text its text, JSON its value, else the API's binding without its name. */
function apiValue(binding: FoundBinding): unknown {
  if (binding.type === "plain_text" && typeof binding.text === "string") return binding.text;
  if (binding.type === "json" && "json" in binding) return binding.json;
  const { name: _name, ...rest } = binding;
  return rest;
}

/** One recorded event source as found: as recorded, with the settings found, or none when its consumer is gone. */
function sourceAsFound(source: unknown, wanted: QueueConsumer | undefined, found: QueueConsumer | undefined): unknown[] {
  if (found === undefined) return [];
  if (wanted === undefined || !isRecord(source)) return [source];
  const has = { ...CONSUMER_DEFAULTS, ...withoutUndefined(found) };
  const wants = { ...CONSUMER_DEFAULTS, ...withoutUndefined(wanted) };
  const settings: Record<string, unknown> = isRecord(source.settings) ? { ...source.settings } : {};
  if (has.maxBatchSize !== wants.maxBatchSize) settings.batchSize = has.maxBatchSize;
  if (has.maxBatchTimeout !== wants.maxBatchTimeout) settings.maxWaitTimeSeconds = has.maxBatchTimeout;
  if (has.maxRetries !== wants.maxRetries) settings.maxRetries = has.maxRetries;
  if (has.deadLetterQueue !== wants.deadLetterQueue) {
    if (has.deadLetterQueue === undefined) delete settings.deadLetterQueue;
    else settings.deadLetterQueue = isRecord(settings.deadLetterQueue) ? { ...settings.deadLetterQueue, name: has.deadLetterQueue } : { name: has.deadLetterQueue };
  }
  if (jsonEqual(settings, isRecord(source.settings) ? source.settings : {})) return [source];
  // A bare Queue becomes `{ queue, settings }`, the form that carries settings.
  return [{ queue: isRecord(source.queue) ? source.queue : source, settings }];
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isSecret(value);
}
