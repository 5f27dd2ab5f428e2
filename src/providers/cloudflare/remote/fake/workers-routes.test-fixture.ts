/**
 * Routes of Workers scripts: upload, list, settings (get and patch), delete, workers.dev
 * subdomains, and the account's subdomain. The list is not paged (Cloudflare's "List Workers"
 * returns every script).
 *
 * Patch Settings (`PATCH .../scripts/:name/settings`, what the dashboard does to a Worker's
 * settings) takes a multipart body whose `settings` part is JSON. Its `compatibility_date`,
 * `compatibility_flags` and `bindings` replace the script's (bindings checked as an upload's;
 * `{ type: "inherit", name, old_name? }` keeps the current binding of that name, the one way to
 * keep a secret whose text the API never returns); the other documented fields (`logpush`,
 * `placement`, `observability`, `tail_consumers`, `usage_model`) are stored and returned by GET;
 * a field left out stays as it was. The code is not touched.
 *
 * Not modelled: script content downloads, versions and deployments, secrets routes, `?force` on
 * delete (deletion is never refused, whatever binds to the script), routes and custom domains,
 * the size limits of an upload.
 */
import { createHash } from "node:crypto";
import { CODES } from "./error-codes.test-fixture.js";
import { fail, ok, type RouteResponse } from "./envelope.test-fixture.js";
import { newHexId, nowIso, workerKey, type FakeWorker } from "./fake-state.test-fixture.js";
import type { Route, RouteContext } from "./router.test-fixture.js";
import { checkBindings, isRecord, readWorkerUpload } from "./worker-upload.test-fixture.js";

const SCRIPT = "/accounts/:account_id/workers/scripts/:script_name";

/** The routes of Workers scripts and subdomains. */
export const workersRoutes: readonly Route[] = [
  {
    method: "GET",
    pattern: "/accounts/:account_id/workers/subdomain",
    permission: "Workers Scripts Read",
    body: "none",
    handle: ({ state, accountId }) => ok({ subdomain: state.subdomains.get(accountId) }),
  },
  { method: "PUT", pattern: SCRIPT, permission: "Workers Scripts Write", body: "multipart", handle: uploadScript },
  {
    method: "GET",
    pattern: "/accounts/:account_id/workers/scripts",
    permission: "Workers Scripts Read",
    body: "none",
    handle: ({ state, accountId }) => ok([...state.workers.values()].filter((worker) => worker.accountId === accountId).map(scriptSummary)),
  },
  {
    method: "GET",
    pattern: `${SCRIPT}/settings`,
    permission: "Workers Scripts Read",
    body: "none",
    handle: (context) => withVisibleScript(context, (worker) => ok(settingsOf(worker))),
  },
  { method: "PATCH", pattern: `${SCRIPT}/settings`, permission: "Workers Scripts Write", body: "multipart", handle: patchSettings },
  {
    method: "DELETE",
    pattern: SCRIPT,
    permission: "Workers Scripts Write",
    body: "none",
    handle: ({ state, accountId, params }) => {
      const key = workerKey(accountId, params.script_name!);
      if (!state.workers.delete(key)) return scriptNotFound(params.script_name!);
      state.createdAt.delete(`worker:${key}`);
      return ok({ id: params.script_name });
    },
  },
  {
    method: "POST",
    pattern: `${SCRIPT}/subdomain`,
    permission: "Workers Scripts Write",
    body: "json",
    handle: ({ state, accountId, params, json }) => {
      const worker = state.workers.get(workerKey(accountId, params.script_name!));
      if (worker === undefined) return scriptNotFound(params.script_name!);
      if (!isRecord(json) || typeof json.enabled !== "boolean") return fail(400, CODES.workerInvalid, "The body must be { enabled: boolean, previews_enabled?: boolean }");
      worker.subdomainEnabled = json.enabled;
      if (typeof json.previews_enabled === "boolean") worker.previewsEnabled = json.previews_enabled;
      return ok({ enabled: worker.subdomainEnabled, previews_enabled: worker.previewsEnabled });
    },
  },
  {
    method: "GET",
    pattern: `${SCRIPT}/subdomain`,
    permission: "Workers Scripts Read",
    body: "none",
    handle: (context) => withVisibleScript(context, (worker) => ok({ enabled: worker.subdomainEnabled, previews_enabled: worker.previewsEnabled })),
  },
];

async function uploadScript({ state, accountId, params, form, created }: RouteContext): Promise<RouteResponse> {
  const name = params.script_name!;
  if (!/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/.test(name)) {
    return fail(400, CODES.workerInvalid, `Script name "${name}" is invalid: use lowercase letters, digits, "-" and "_", at most 63 characters`);
  }
  const key = workerKey(accountId, name);
  const previous = state.workers.get(key);
  const upload = await readWorkerUpload(form, state, accountId, name, previous?.bindings);
  if (!upload.ok) return upload.response;
  const hash = createHash("sha256");
  for (const module of upload.value.modules) hash.update(module.name).update(module.content);
  const now = nowIso();
  const worker: FakeWorker = {
    accountId,
    name,
    tag: previous?.tag ?? newHexId(),
    etag: hash.digest("hex"),
    createdOn: previous?.createdOn ?? now,
    modifiedOn: now,
    mainModule: upload.value.mainModule,
    compatibilityDate: upload.value.compatibilityDate,
    compatibilityFlags: upload.value.compatibilityFlags,
    bindings: upload.value.bindings,
    metadata: upload.value.metadata,
    modules: upload.value.modules,
    subdomainEnabled: previous?.subdomainEnabled ?? false,
    previewsEnabled: previous?.previewsEnabled ?? false,
  };
  state.workers.set(key, worker);
  if (previous === undefined) created("worker", key);
  return ok({ ...scriptSummary(worker), startup_time_ms: 0 });
}

const PATCHED_METADATA = ["logpush", "placement", "observability", "tail_consumers", "usage_model"] as const;

async function patchSettings({ state, accountId, params, form }: RouteContext): Promise<RouteResponse> {
  const name = params.script_name!;
  const key = workerKey(accountId, name);
  const worker = state.workers.get(key);
  if (worker === undefined) return scriptNotFound(name);
  const part = form?.get("settings");
  if (part === undefined || part === null) return fail(400, CODES.workerInvalid, "A settings patch must be multipart/form-data with a settings part");
  let settings: unknown;
  try {
    settings = JSON.parse(typeof part === "string" ? part : await part.text());
  } catch {
    return fail(400, CODES.workerInvalid, "The settings part is not valid JSON");
  }
  if (!isRecord(settings)) return fail(400, CODES.workerInvalid, "The settings part must be a JSON object");
  const date = settings.compatibility_date ?? worker.compatibilityDate;
  if (date !== undefined && (typeof date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(date))) return fail(400, CODES.workerInvalid, "settings.compatibility_date must be YYYY-MM-DD");
  const flags = settings.compatibility_flags ?? worker.compatibilityFlags;
  if (!Array.isArray(flags) || !flags.every((flag) => typeof flag === "string")) return fail(400, CODES.workerInvalid, "settings.compatibility_flags must be an array of strings");
  let bindings = worker.bindings;
  if (settings.bindings !== undefined) {
    if (!Array.isArray(settings.bindings)) return fail(400, CODES.workerInvalid, "settings.bindings must be an array");
    const resolved: unknown[] = [];
    for (const binding of settings.bindings) {
      if (!isRecord(binding) || binding.type !== "inherit") {
        resolved.push(binding);
        continue;
      }
      const from = typeof binding.old_name === "string" ? binding.old_name : binding.name;
      const current = worker.bindings.find((b) => b.name === from);
      if (current === undefined) return fail(400, CODES.workerInvalid, `Binding "${String(binding.name)}" inherits "${String(from)}", which the script does not have`);
      resolved.push({ ...current, name: binding.name });
    }
    const checked = checkBindings(resolved, undefined, undefined, state, accountId, name);
    if (!checked.ok) return checked.response;
    bindings = checked.value;
  }
  const metadata = { ...worker.metadata };
  for (const field of PATCHED_METADATA) if (field in settings) metadata[field] = settings[field];
  const patched: FakeWorker = { ...worker, compatibilityDate: date as string | undefined, compatibilityFlags: flags as string[], bindings, metadata, modifiedOn: nowIso() };
  state.workers.set(key, patched);
  return ok(settingsOf(patched));
}

function withVisibleScript({ state, accountId, params, isHidden }: RouteContext, answer: (worker: FakeWorker) => RouteResponse): RouteResponse {
  const key = workerKey(accountId, params.script_name!);
  const worker = state.workers.get(key);
  if (worker === undefined || isHidden("worker", key)) return scriptNotFound(params.script_name!);
  return answer(worker);
}

function scriptNotFound(name: string): RouteResponse {
  return fail(404, CODES.workerNotFound, `This Worker does not exist on your account: "${name}".`);
}

function scriptSummary(worker: FakeWorker) {
  return {
    id: worker.name,
    tag: worker.tag,
    etag: worker.etag,
    created_on: worker.createdOn,
    modified_on: worker.modifiedOn,
    compatibility_date: worker.compatibilityDate,
    compatibility_flags: worker.compatibilityFlags,
    usage_model: "standard",
    has_modules: true,
    has_assets: false,
    logpush: false,
  };
}

/** Settings as Cloudflare returns them: secret texts keep their name and type, never their text. */
function settingsOf(worker: FakeWorker) {
  const bindings = worker.bindings.map((binding) => (binding.type === "secret_text" ? { type: binding.type, name: binding.name } : binding));
  return {
    bindings,
    compatibility_date: worker.compatibilityDate,
    compatibility_flags: worker.compatibilityFlags,
    usage_model: "standard",
    logpush: false,
    placement: worker.metadata.placement ?? {},
    observability: worker.metadata.observability ?? null,
    tail_consumers: worker.metadata.tail_consumers ?? [],
    ...(worker.metadata.logpush !== undefined ? { logpush: worker.metadata.logpush } : {}),
    ...(worker.metadata.usage_model !== undefined ? { usage_model: worker.metadata.usage_model } : {}),
  };
}
