/**
 * A local fake of Cloudflare's REST API v4, for the tests of our API client and remote backend.
 * It proves our client against the documented contract, never Cloudflare itself: where the
 * contract is silent the fake guesses, and says so (see `error-codes.test-fixture.ts` for where
 * each error code comes from, and each `*-routes.test-fixture.ts` for its area).
 *
 * Models:
 * - a node:http server on 127.0.0.1 (random port), paths under `/client/v4`;
 * - auth by `Authorization: Bearer` or `X-Auth-Email` + `X-Auth-Key`, per-route permissions and
 *   per-token accounts (`auth.test-fixture.ts`); 401/403 with code 10000;
 * - Cloudflare's envelope on every answer but raw reads (KV values, R2 objects), `result_info`
 *   on paged lists (page/per_page) and cursor lists (KV keys, R2);
 * - accounts, the workers.dev subdomain, Worker uploads (multipart, checked), D1 (real SQL on
 *   in-memory SQLite), KV, R2 (jurisdictions, conditional PUTs), Queues and consumers;
 * - unknown paths: 404 code 7003; a known path with another method: 405 code 7001;
 * - `Ratelimit`/`Ratelimit-Policy` headers counting each credential's requests in a 5-minute
 *   window of 1,200; scripted failures (429 with `retry-after`, 5xx, a response lost after the
 *   work was done) and resources that 404 for a while after creation;
 * - a log of every request, secrets redacted.
 *
 * Does not model: the rate limit itself (nothing answers 429 unless scripted), eventual
 * consistency beyond the scripted window (KV is immediately consistent), running Workers or
 * delivering queue messages, zones/DNS/routes/custom domains, Durable Object migrations, assets
 * uploads, Worker versions and deployments, size and count limits, and most query parameters
 * the areas' files do not mention. The order of checks is: scripted failure, credentials (401),
 * route (404/405), account (403 code 9109), permission (403), body, handler.
 *
 * @example
 * const fake = await startFakeCloudflare();
 * const res = await fetch(`${fake.baseUrl}/accounts/${fake.accountId}/d1/database`, {
 *   method: "POST",
 *   headers: { authorization: "Bearer test-token", "content-type": "application/json" },
 *   body: JSON.stringify({ name: "db" }),
 * });
 * await fake.close();
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { accountsRoutes } from "./accounts-routes.test-fixture.js";
import { ALL_PERMISSIONS, authenticate, DEFAULT_TOKEN, forbidden, holds, type TokenGrant } from "./auth.test-fixture.js";
import { d1Routes } from "./d1-routes.test-fixture.js";
import { CODES } from "./error-codes.test-fixture.js";
import { fail, type RouteResponse } from "./envelope.test-fixture.js";
import { clearState, emptyState, type FakeAccount, type FakeState, type VisibilityKind } from "./fake-state.test-fixture.js";
import { kvRoutes } from "./kv-routes.test-fixture.js";
import { queuesRoutes } from "./queues-routes.test-fixture.js";
import { r2Routes } from "./r2-routes.test-fixture.js";
import { isMultipart, logEntry, logParts, type LoggedRequest } from "./request-log.test-fixture.js";
import { matchRoute, type Route, type RouteContext } from "./router.test-fixture.js";
import { Script, scriptedResponse, type FailureMatch, type ScriptedFailure } from "./scripting.test-fixture.js";
import { workersRoutes } from "./workers-routes.test-fixture.js";

export { ALL_PERMISSIONS, DEFAULT_TOKEN, type TokenGrant } from "./auth.test-fixture.js";
export { CODES } from "./error-codes.test-fixture.js";
export type { FakeState, VisibilityKind } from "./fake-state.test-fixture.js";
export { REDACTED, type LoggedPart, type LoggedRequest } from "./request-log.test-fixture.js";
export type { FailureMatch, ScriptedFailure } from "./scripting.test-fixture.js";

/** The account the fake has when given no `accounts`. */
export const DEFAULT_ACCOUNT: FakeAccount = { id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", name: "Fake Account" };

/** Requests a credential may make in a window, and the window, as Cloudflare documents them. */
const RATE_LIMIT = { requests: 1200, windowSeconds: 300 };
const API_PREFIX = "/client/v4";
const ROUTES: readonly Route[] = [...accountsRoutes, ...workersRoutes, ...d1Routes, ...kvRoutes, ...r2Routes, ...queuesRoutes];

/** Options of {@link startFakeCloudflare}. */
export interface FakeCloudflareOptions {
  /**
   * The accounts that exist; every token may use them unless its grant lists `accounts`.
   * @default [DEFAULT_ACCOUNT]
   */
  readonly accounts?: readonly FakeAccount[];
  /**
   * Accepted secrets (bearer tokens, or legacy API keys sent as `X-Auth-Key`) and their grants.
   * @default { "test-token": { permissions: ALL_PERMISSIONS } }
   */
  readonly tokens?: Readonly<Record<string, TokenGrant>>;
}

/** A running fake. */
export interface FakeCloudflare {
  /** E.g. `http://127.0.0.1:40123/client/v4`. */
  readonly baseUrl: string;
  /** The id of the first account. */
  readonly accountId: string;
  /** Every request received, oldest first. */
  readonly requests: LoggedRequest[];
  /** The resources held, for tests to inspect. */
  readonly state: FakeState;
  /** The next `times` (default 1) requests matching `match` get `response` (see {@link ScriptedFailure}). */
  failNext(match: FailureMatch, response: ScriptedFailure): void;
  /** For `ms` after its creation, a GET of a new resource of `kind` answers its 404 (0 turns it off). */
  notVisibleAfterCreate(kind: VisibilityKind, ms: number): void;
  /** Forgets resources, the request log, scripts and rate-limit counts; accounts and tokens stay. */
  reset(): void;
  /** Stops the server and closes the D1 databases. */
  close(): Promise<void>;
}

/**
 * Starts a fake Cloudflare API on a random loopback port.
 *
 * @example
 * const fake = await startFakeCloudflare({ tokens: { ro: { permissions: ["D1 Read"] } } });
 */
export async function startFakeCloudflare(options: FakeCloudflareOptions = {}): Promise<FakeCloudflare> {
  const accounts = options.accounts ?? [DEFAULT_ACCOUNT];
  if (accounts.length === 0) throw new Error("startFakeCloudflare needs at least one account");
  const tokens = new Map(Object.entries(options.tokens ?? { [DEFAULT_TOKEN]: { permissions: ALL_PERMISSIONS } }));
  const state = emptyState(accounts);
  const requests: LoggedRequest[] = [];
  const script = new Script();
  const windows = new Map<string, { start: number; count: number }>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const headers = toHeaders(req.headers);
      void answer(req.method ?? "GET", req.url ?? "/", headers, body).then((response) => send(res, response, rateLimitHeaders(headers)));
    });
  });

  async function answer(method: string, rawUrl: string, headers: Headers, body: Uint8Array): Promise<RouteResponse> {
    const url = new URL(rawUrl, "http://fake.invalid");
    const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) || "/" : url.pathname;
    const entry = logEntry(method, path, url.searchParams, headers, body);
    requests.push(entry);
    const form = isMultipart(headers) ? await parseForm(headers, body) : undefined;
    if (form !== undefined) (entry as { parts: LoggedRequest["parts"] }).parts = await logParts(form);
    let response: RouteResponse;
    try {
      response = await dispatch(method, url, path, headers, body, form);
    } catch (error) {
      // A bug of the fake, not an answer Cloudflare would give: say so in the response.
      response = fail(500, CODES.internal, `fake-cloudflare failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    entry.status = response.status;
    return response;
  }

  async function dispatch(method: string, url: URL, path: string, headers: Headers, body: Uint8Array, form: FormData | undefined): Promise<RouteResponse> {
    const scripted = script.take(method, path);
    if (scripted !== undefined && !scripted.afterApplying) return scriptedResponse(scripted);
    const credentials = authenticate(headers, tokens);
    if (!credentials.ok) return credentials.response;
    const match = url.pathname.startsWith(API_PREFIX) ? matchRoute(ROUTES, method, path) : ({ kind: "none" } as const);
    if (match.kind === "wrong-method") return fail(405, CODES.methodNotAllowed, `Method ${method} not available for that URI.`);
    if (match.kind === "none") return fail(404, CODES.noRoute, `Could not route to ${url.pathname}, perhaps your object identifier is invalid?`);
    const { route, params } = match;
    const grant = credentials.grant;
    const accountId = params.account_id ?? "";
    if (params.account_id !== undefined && (!state.accounts.some((account) => account.id === accountId) || (grant.accounts !== undefined && !grant.accounts.includes(accountId)))) {
      return fail(403, CODES.accountForbidden, "Unauthorized to access requested resource");
    }
    if (route.permission !== null && !holds(grant, route.permission)) return forbidden(route.permission);
    let json: unknown;
    if (route.body === "json" && body.byteLength > 0) {
      try {
        json = JSON.parse(Buffer.from(body).toString("utf8"));
      } catch {
        return fail(400, CODES.malformedJson, "Malformed JSON in request body");
      }
    }
    const context: RouteContext = {
      params,
      query: url.searchParams,
      headers,
      json,
      form: route.body === "multipart" ? form : undefined,
      body,
      state,
      accountId,
      grantedAccounts: grant.accounts,
      isHidden: (kind, key) => script.isHidden(kind, state.createdAt.get(`${kind}:${key}`)),
      created: (kind, key) => void state.createdAt.set(`${kind}:${key}`, Date.now()),
    };
    const response = await route.handle(context);
    return scripted !== undefined ? scriptedResponse(scripted) : response;
  }

  function rateLimitHeaders(headers: Headers): Record<string, string> {
    const who = headers.get("authorization") ?? headers.get("x-auth-key") ?? "anonymous";
    const now = Date.now();
    let window = windows.get(who);
    if (window === undefined || now - window.start >= RATE_LIMIT.windowSeconds * 1000) {
      window = { start: now, count: 0 };
      windows.set(who, window);
    }
    window.count += 1;
    const remaining = Math.max(0, RATE_LIMIT.requests - window.count);
    const reset = Math.ceil((window.start + RATE_LIMIT.windowSeconds * 1000 - now) / 1000);
    return {
      ratelimit: `"default";r=${remaining};t=${reset}`,
      "ratelimit-policy": `"default";q=${RATE_LIMIT.requests};w=${RATE_LIMIT.windowSeconds}`,
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}${API_PREFIX}`,
    accountId: accounts[0]!.id,
    requests,
    state,
    failNext: (match, response) => script.failNext(match, response),
    notVisibleAfterCreate: (kind, ms) => script.hideAfterCreate(kind, ms),
    reset() {
      clearState(state);
      requests.length = 0;
      script.clear();
      windows.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      clearState(state);
    },
  };
}

async function parseForm(headers: Headers, body: Uint8Array): Promise<FormData | undefined> {
  try {
    return await new Request("http://fake.invalid/", { method: "POST", headers: { "content-type": headers.get("content-type")! }, body }).formData();
  } catch {
    return undefined;
  }
}

function toHeaders(incoming: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

function send(res: http.ServerResponse, response: RouteResponse, rateLimit: Record<string, string>): void {
  const common = { ...rateLimit, "cf-ray": `${Math.random().toString(16).slice(2, 18)}-FAKE` };
  if (response.kind === "raw") {
    res.writeHead(response.status, { ...common, ...response.headers, "content-length": String(response.body.byteLength) });
    res.end(response.body);
    return;
  }
  const text = JSON.stringify(response.envelope);
  res.writeHead(response.status, { ...common, ...response.headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}
