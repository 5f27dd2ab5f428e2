/**
 * Routes of Workers KV: namespaces (create, list paged 20 a page by default with `order` and
 * `direction`, get, rename, delete), values (raw PUT with `expiration`/`expiration_ttl`, raw GET,
 * DELETE) and key listing with `prefix` and an opaque `cursor` (`limit` 10..1000, default 1000).
 *
 * Keys are one path segment: a `/` in a key must be sent encoded (%2F), else the path routes
 * nowhere (7003). Unlike production KV (up to 60 s to propagate), writes are visible at once.
 * Not modelled: bulk routes, multipart PUT of a value with metadata, metadata routes, key and
 * value size limits.
 */
import { CODES } from "./error-codes.test-fixture.js";
import { cursorPage, fail, intParam, ok, paginate, raw, type RouteResponse } from "./envelope.test-fixture.js";
import { newHexId, type FakeKvNamespace } from "./fake-state.test-fixture.js";
import type { Route, RouteContext } from "./router.test-fixture.js";
import { isRecord } from "./worker-upload.test-fixture.js";

const NAMESPACES = "/accounts/:account_id/storage/kv/namespaces";
const NAMESPACE = `${NAMESPACES}/:namespace_id`;
const VALUE = `${NAMESPACE}/values/:key_name`;

/** The routes of KV namespaces and their keys. */
export const kvRoutes: readonly Route[] = [
  { method: "POST", pattern: NAMESPACES, permission: "Workers KV Storage Write", body: "json", handle: createNamespace },
  { method: "GET", pattern: NAMESPACES, permission: "Workers KV Storage Read", body: "none", handle: listNamespaces },
  {
    method: "GET",
    pattern: NAMESPACE,
    permission: "Workers KV Storage Read",
    body: "none",
    handle: (context) => withNamespace(context, true, (namespace) => ok(summary(namespace))),
  },
  { method: "PUT", pattern: NAMESPACE, permission: "Workers KV Storage Write", body: "json", handle: renameNamespace },
  {
    method: "DELETE",
    pattern: NAMESPACE,
    permission: "Workers KV Storage Write",
    body: "none",
    handle: (context) =>
      withNamespace(context, false, (namespace) => {
        context.state.kvNamespaces.delete(namespace.id);
        context.state.createdAt.delete(`kv_namespace:${namespace.id}`);
        return ok(null);
      }),
  },
  { method: "PUT", pattern: VALUE, permission: "Workers KV Storage Write", body: "raw", handle: putValue },
  {
    method: "GET",
    pattern: VALUE,
    permission: "Workers KV Storage Read",
    body: "none",
    handle: (context) =>
      withNamespace(context, false, (namespace) => {
        const key = context.params.key_name!;
        const entry = namespace.values.get(key);
        if (entry === undefined || isExpired(entry.expiration)) return fail(404, CODES.kvKeyNotFound, "get: 'key not found'");
        const headers: Record<string, string> = { "content-type": "application/octet-stream" };
        if (entry.expiration !== undefined) headers.expiration = String(entry.expiration);
        return raw(entry.value, headers);
      }),
  },
  {
    method: "DELETE",
    pattern: VALUE,
    permission: "Workers KV Storage Write",
    body: "none",
    handle: (context) =>
      withNamespace(context, false, (namespace) => {
        namespace.values.delete(context.params.key_name!);
        return ok(null);
      }),
  },
  { method: "GET", pattern: `${NAMESPACE}/keys`, permission: "Workers KV Storage Read", body: "none", handle: listKeys },
];

function createNamespace({ state, accountId, json, created }: RouteContext): RouteResponse {
  if (!isRecord(json) || typeof json.title !== "string" || json.title === "") return fail(400, CODES.kvMissingTitle, "missing title");
  const title = json.title;
  if (titleTaken(namespacesOf(state.kvNamespaces, accountId), title)) {
    return fail(400, CODES.kvTitleExists, "a namespace with this account ID and title already exists");
  }
  const namespace: FakeKvNamespace = { accountId, id: newHexId(), title, values: new Map() };
  state.kvNamespaces.set(namespace.id, namespace);
  created("kv_namespace", namespace.id);
  return ok(summary(namespace));
}

function listNamespaces({ state, accountId, query }: RouteContext): RouteResponse {
  const order = query.get("order") === "title" ? "title" : query.get("order") === "id" ? "id" : undefined;
  let namespaces = namespacesOf(state.kvNamespaces, accountId);
  if (order !== undefined) namespaces = [...namespaces].sort((a, b) => a[order].localeCompare(b[order]));
  if (query.get("direction") === "desc") namespaces = [...namespaces].reverse();
  const { items, info } = paginate(namespaces, query, { defaultPerPage: 20, minPerPage: 5, maxPerPage: 1000 });
  return ok(items.map(summary), info);
}

function renameNamespace(context: RouteContext): RouteResponse {
  return withNamespace(context, false, (namespace) => {
    const { json, state, accountId } = context;
    if (!isRecord(json) || typeof json.title !== "string" || json.title === "") return fail(400, CODES.kvMissingTitle, "missing title");
    const others = namespacesOf(state.kvNamespaces, accountId).filter((other) => other.id !== namespace.id);
    if (titleTaken(others, json.title)) return fail(400, CODES.kvTitleExists, "a namespace with this account ID and title already exists");
    namespace.title = json.title;
    return ok(summary(namespace));
  });
}

function putValue(context: RouteContext): RouteResponse {
  return withNamespace(context, false, (namespace) => {
    const { query, body, params } = context;
    const ttl = intParam(query, "expiration_ttl");
    const at = intParam(query, "expiration");
    if ((query.has("expiration_ttl") && ttl === undefined) || (query.has("expiration") && at === undefined)) {
      return fail(400, CODES.kvInvalid, "expiration and expiration_ttl must be whole numbers of seconds");
    }
    if (ttl !== undefined && ttl < 60) return fail(400, CODES.kvInvalid, "Invalid expiration_ttl of " + ttl + ". Expiration TTL must be at least 60.");
    const now = Math.floor(Date.now() / 1000);
    if (at !== undefined && at < now + 60) return fail(400, CODES.kvInvalid, "Invalid expiration of " + at + ". Expiration times must be at least 60 seconds in the future.");
    const expiration = ttl !== undefined ? now + ttl : at;
    namespace.values.set(params.key_name!, { value: body, expiration, metadata: undefined });
    return ok(null);
  });
}

function listKeys(context: RouteContext): RouteResponse {
  return withNamespace(context, false, (namespace) => {
    const { query } = context;
    const prefix = query.get("prefix") ?? "";
    const limit = Math.min(1000, Math.max(10, intParam(query, "limit") ?? 1000));
    const names = [...namespace.values.entries()]
      .filter(([name, entry]) => name.startsWith(prefix) && !isExpired(entry.expiration))
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = cursorPage(names, query.get("cursor"), limit);
    const keys = page.items.map(([name, entry]) => ({
      name,
      ...(entry.expiration === undefined ? {} : { expiration: entry.expiration }),
      ...(entry.metadata === undefined ? {} : { metadata: entry.metadata }),
    }));
    return ok(keys, { count: keys.length, cursor: page.next });
  });
}

function withNamespace(context: RouteContext, isGet: boolean, answer: (namespace: FakeKvNamespace) => RouteResponse): RouteResponse {
  const id = context.params.namespace_id!;
  const namespace = context.state.kvNamespaces.get(id);
  if (namespace === undefined || namespace.accountId !== context.accountId || (isGet && context.isHidden("kv_namespace", id))) {
    return fail(404, CODES.kvNamespaceNotFound, "namespace not found");
  }
  return answer(namespace);
}

function namespacesOf(all: ReadonlyMap<string, FakeKvNamespace>, accountId: string): FakeKvNamespace[] {
  return [...all.values()].filter((namespace) => namespace.accountId === accountId);
}

function titleTaken(namespaces: readonly FakeKvNamespace[], title: string): boolean {
  return namespaces.some((namespace) => namespace.title === title);
}

function summary(namespace: FakeKvNamespace) {
  return { id: namespace.id, title: namespace.title, supports_url_encoding: true };
}

function isExpired(expiration: number | undefined): boolean {
  return expiration !== undefined && Date.now() / 1000 >= expiration;
}
