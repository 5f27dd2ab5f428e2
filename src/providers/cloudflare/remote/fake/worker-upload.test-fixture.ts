/**
 * Reading and checking a Worker upload (`PUT /workers/scripts/:name`, multipart): the
 * `metadata` part, the module parts, and each binding's shape and target.
 *
 * Modelled binding types and their fields (Cloudflare's multipart upload metadata):
 * `plain_text`/`secret_text` {text}, `json` {json}, `kv_namespace` {namespace_id}, `d1` {id},
 * `r2_bucket` {bucket_name, jurisdiction?}, `queue` {queue_name}, `service` {service,
 * environment?, entrypoint?}, `durable_object_namespace` {class_name, script_name?},
 * `version_metadata` {}, `analytics_engine` {dataset?}, `ai` {}. Any other type is refused with
 * a 400 naming it, though Cloudflare accepts more (hyperdrive, vectorize, browser, workflow...).
 * Targets must exist in the account, as on Cloudflare: a namespace, database, bucket (in the
 * binding's jurisdiction), queue, or a Worker named by a service binding or a Durable Object
 * binding's script_name (the script itself excepted).
 */
import { CODES, type ErrorCode } from "./error-codes.test-fixture.js";
import { fail, type RouteResponse } from "./envelope.test-fixture.js";
import { bucketKey, workerKey, type FakeState, type UploadedBinding, type UploadedModule } from "./fake-state.test-fixture.js";

/** Content types a module part may have. */
export const MODULE_CONTENT_TYPES = [
  "application/javascript+module",
  "application/javascript",
  "text/javascript",
  "text/plain",
  "application/octet-stream",
  "application/wasm",
  "application/source-map",
  "application/json",
  "text/x-python",
] as const;

/** Content types the main module may have. */
const MAIN_CONTENT_TYPES = new Set(["application/javascript+module", "text/x-python"]);

/** A checked upload. */
export interface WorkerUpload {
  readonly metadata: Record<string, unknown>;
  readonly mainModule: string;
  readonly compatibilityDate: string | undefined;
  readonly compatibilityFlags: readonly string[];
  readonly bindings: readonly UploadedBinding[];
  readonly modules: readonly UploadedModule[];
}

type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly response: RouteResponse };

const invalid = (message: string, error: ErrorCode = CODES.workerInvalid): Checked<never> => ({ ok: false, response: fail(400, error, message) });

/** Reads and checks the upload of `scriptName` to `accountId`; `previous` is the script it replaces, if any. */
export async function readWorkerUpload(
  form: FormData | undefined,
  state: FakeState,
  accountId: string,
  scriptName: string,
  previous: readonly UploadedBinding[] | undefined,
): Promise<Checked<WorkerUpload>> {
  if (form === undefined) return invalid("A Worker upload must be multipart/form-data with a metadata part");
  const metadataPart = form.get("metadata");
  if (metadataPart === null) return invalid("The upload has no metadata part");
  let metadata: unknown;
  try {
    metadata = JSON.parse(typeof metadataPart === "string" ? metadataPart : await metadataPart.text());
  } catch {
    return invalid("The metadata part is not valid JSON");
  }
  if (!isRecord(metadata)) return invalid("The metadata part must be a JSON object");

  const modules: UploadedModule[] = [];
  for (const [name, value] of form.entries()) {
    if (name === "metadata") continue;
    if (typeof value === "string") return invalid(`Part "${name}" has no content type; send each module as a file part`);
    const contentType = value.type.split(";")[0]!.trim();
    if (!(MODULE_CONTENT_TYPES as readonly string[]).includes(contentType)) {
      return invalid(`Part "${name}" has content type "${value.type}", which is not a module type (${MODULE_CONTENT_TYPES.join(", ")})`);
    }
    modules.push({ name, contentType, content: new Uint8Array(await value.arrayBuffer()) });
  }

  if (typeof metadata.body_part === "string") return invalid("Service-worker uploads (body_part) are not modelled by the fake; send main_module");
  const mainModule = metadata.main_module;
  if (typeof mainModule !== "string" || mainModule === "") return invalid("metadata.main_module is required");
  const main = modules.find((module) => module.name === mainModule);
  if (main === undefined) return invalid(`metadata.main_module "${mainModule}" names no part of the upload (parts: ${modules.map((m) => m.name).join(", ") || "none"})`);
  if (!MAIN_CONTENT_TYPES.has(main.contentType)) return invalid(`The main module "${mainModule}" must be application/javascript+module, not ${main.contentType}`);

  const date = metadata.compatibility_date;
  if (date !== undefined && (typeof date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(date))) return invalid("metadata.compatibility_date must be YYYY-MM-DD");
  const flags = metadata.compatibility_flags ?? [];
  if (!Array.isArray(flags) || !flags.every((flag) => typeof flag === "string")) return invalid("metadata.compatibility_flags must be an array of strings");

  const bindings = checkBindings(metadata.bindings ?? [], metadata.keep_bindings, previous, state, accountId, scriptName);
  if (!bindings.ok) return bindings;
  return { ok: true, value: { metadata, mainModule, compatibilityDate: date as string | undefined, compatibilityFlags: flags as string[], bindings: bindings.value, modules } };
}

/** Checks the bindings of an upload (or a settings patch) of `scriptName`, adding the previous version's of the types in `keepTypes`. */
export function checkBindings(
  input: unknown,
  keepTypes: unknown,
  previous: readonly UploadedBinding[] | undefined,
  state: FakeState,
  accountId: string,
  scriptName: string,
): Checked<UploadedBinding[]> {
  if (!Array.isArray(input)) return invalid("metadata.bindings must be an array");
  const bindings: UploadedBinding[] = [];
  const names = new Set<string>();
  for (const binding of input) {
    if (!isRecord(binding) || typeof binding.name !== "string" || binding.name === "") return invalid("Every binding needs a name");
    if (typeof binding.type !== "string") return invalid(`Binding "${binding.name}" needs a type`);
    if (names.has(binding.name)) return invalid(`Binding name "${binding.name}" is used more than once`);
    names.add(binding.name);
    const problem = checkBinding(binding as UploadedBinding, state, accountId, scriptName);
    if (problem !== undefined) return problem;
    bindings.push(binding as UploadedBinding);
  }
  // keep_bindings: bindings of these types from the previous version stay unless replaced by name.
  if (Array.isArray(keepTypes) && previous !== undefined) {
    for (const old of previous) {
      if (keepTypes.includes(old.type) && !names.has(old.name)) bindings.push(old);
    }
  }
  return { ok: true, value: bindings };
}

function checkBinding(binding: UploadedBinding, state: FakeState, accountId: string, scriptName: string): Checked<never> | undefined {
  const { name, type } = binding;
  const needString = (field: string): Checked<never> | undefined =>
    typeof binding[field] === "string" && binding[field] !== "" ? undefined : invalid(`Binding "${name}" of type ${type} needs a string "${field}"`);
  switch (type) {
    case "plain_text":
    case "secret_text":
      return needString("text");
    case "json":
      return "json" in binding ? undefined : invalid(`Binding "${name}" of type json needs "json"`);
    case "kv_namespace": {
      const id = binding.namespace_id;
      const found = typeof id === "string" && state.kvNamespaces.get(id)?.accountId === accountId;
      return found ? undefined : invalid(`KV namespace '${String(id)}' is not valid.`, CODES.workerKvBindingInvalid);
    }
    case "d1": {
      const id = binding.id;
      const found = typeof id === "string" && state.d1Databases.get(id)?.accountId === accountId;
      return found ? undefined : invalid(`D1 binding "${name}" references database '${String(id)}', which was not found`);
    }
    case "r2_bucket": {
      const jurisdiction = typeof binding.jurisdiction === "string" ? binding.jurisdiction : "default";
      const found = typeof binding.bucket_name === "string" && state.r2Buckets.has(bucketKey(accountId, jurisdiction, binding.bucket_name));
      return found ? undefined : invalid(`R2 bucket '${String(binding.bucket_name)}' not found. Please use a different name and try again.`, CODES.workerR2BindingInvalid);
    }
    case "queue": {
      const missing = needString("queue_name");
      if (missing) return missing;
      const found = [...state.queues.values()].some((queue) => queue.accountId === accountId && queue.name === binding.queue_name);
      return found ? undefined : invalid(`Queue "${String(binding.queue_name)}" does not exist`, CODES.queueNotFound);
    }
    case "service":
      return needString("service") ?? scriptExists(binding.service as string, state, accountId, scriptName, name);
    case "durable_object_namespace": {
      const missing = needString("class_name");
      if (missing) return missing;
      return typeof binding.script_name === "string" ? scriptExists(binding.script_name, state, accountId, scriptName, name) : undefined;
    }
    case "version_metadata":
    case "ai":
      return undefined;
    case "analytics_engine":
      return binding.dataset === undefined || typeof binding.dataset === "string" ? undefined : invalid(`Binding "${name}": dataset must be a string`);
    default:
      return invalid(
        `Unknown binding type "${type}" for binding "${name}". The fake models: plain_text, secret_text, json, kv_namespace, d1, r2_bucket, queue, service, durable_object_namespace, version_metadata, analytics_engine, ai`,
      );
  }
}

function scriptExists(target: string, state: FakeState, accountId: string, scriptName: string, bindingName: string): Checked<never> | undefined {
  if (target === scriptName || state.workers.has(workerKey(accountId, target))) return undefined;
  return invalid(`Binding "${bindingName}" references the Worker "${target}", which does not exist`, CODES.workerServiceBindingInvalid);
}

/** Whether `value` is a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
