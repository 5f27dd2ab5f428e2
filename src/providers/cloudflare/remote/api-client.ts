/**
 * `CloudflareApi`, the one client every remote Cloudflare resource calls the
 * REST API v4 through. It authenticates, unwraps the envelope, waits out rate
 * limits and transient failures (see retry-policy.ts), paces its own requests
 * under Cloudflare's budget (see request-limiter.ts), and reports every wait,
 * so that a deploy never fails because it went fast and never stands still
 * without saying why.
 *
 * Requests go to the credentials' base URL and nowhere else: a path must stay
 * below it, and redirects are not followed.
 *
 * A request that is retried after a 5xx or a network failure may have done
 * its work the first time (a POST that created a database before the
 * connection dropped): {@link CloudflareApiError.attempts} says so, and a
 * handler that sees "already exists" after more than one attempt should
 * adopt what it finds.
 *
 * @module
 */
import { AlchemyError } from "../../../core/errors.js";
import { ProfileError } from "../../../core/profiles/profile-error.js";
import { apiError, networkError, rateLimitError, type CloudflareApiError, type CloudflareApiErrorDetails } from "./api-error.js";
import { systemClock, type Clock } from "./clock.js";
import type { CloudflareCredentials } from "./credentials.js";
import { parseEnvelope, type Envelope } from "./envelope.js";
import { collectPages, type PaginateOptions, type Query } from "./pagination.js";
import { RequestLimiter, type RequestLimits } from "./request-limiter.js";
import {
  backoffMs,
  isNetworkError,
  networkErrorCode,
  notVisibleDelayMs,
  RATE_LIMIT_ATTEMPTS,
  retryAfterMs,
  SERVER_ERROR_ATTEMPTS,
  type RetryEvent,
} from "./retry-policy.js";

/** Options of {@link CloudflareApi}. */
export interface CloudflareApiOptions {
  credentials: CloudflareCredentials;
  /** The active profile, named in messages. @default credentials.profile */
  profile?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Told about every wait before it starts, e.g. to print `describeRetry(event)`. */
  onRetry?: (event: RetryEvent) => void;
  /** @default systemClock */
  clock?: Clock;
  /** The client's request budget. @default CLOUDFLARE_LIMITS (1,200 per 5 minutes, bursts of 300) */
  limits?: RequestLimits;
  /** Source of backoff jitter, in [0, 1). @default Math.random */
  random?: () => number;
}

/** A request body fetch accepts: a string, bytes, a Blob, URLSearchParams, FormData or a stream. */
export type RequestBody = NonNullable<RequestInit["body"]>;

/** Options of {@link CloudflareApi.request}. */
export interface RequestOptions {
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as is; a `FormData` gets its multipart content type from fetch. A ReadableStream is sent once and never retried. */
  body?: RequestBody;
  /** Extra headers (e.g. `cf-r2-jurisdiction`); they cannot replace the auth headers. */
  headers?: Record<string, string>;
  /** Query string; undefined values are left out. */
  query?: Query;
  /**
   * Return the body of a 2xx answer instead of the envelope's result (KV
   * values, R2 objects): `true` or `"bytes"` gives a Uint8Array, `"text"` a string.
   * @default false
   */
  raw?: boolean | "text" | "bytes";
  /** `"null"`: a 404 resolves to null instead of throwing. @default "throw" */
  notFound?: "null" | "throw";
  /**
   * For something created moments ago: a 404 is retried with backoff until
   * this long after the request began ("not visible yet"), then handled as
   * `notFound` says.
   * @default 0
   */
  visibleWithinMs?: number;
}

/** What the client did, for `--json` reports. */
export interface CloudflareApiStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Requests sent again after a 429, 5xx, 408, network failure or not-visible 404. */
  retries: number;
  /** Time spent waiting: rate limits, backoff and the client's own pacing. */
  waitedMs: number;
}

const AUTH_HEADERS = new Set(["authorization", "x-auth-key", "x-auth-email"]);

/**
 * A Cloudflare REST API v4 client for one set of credentials. Share one per
 * run: its request budget is per client.
 *
 * @example
 * const api = new CloudflareApi({ credentials: cloudflareCredentials(settings, process.env, "ci"), profile: "ci" });
 * const db = await api.request<{ uuid: string }>("POST", await api.accountPath("/d1/database"), { json: { name: "shop" } });
 * const scripts = await api.paginate<{ id: string }>(await api.accountPath("/workers/scripts"));
 */
export class CloudflareApi {
  readonly credentials: CloudflareCredentials;
  readonly profile: string;
  readonly #fetch: typeof fetch;
  readonly #onRetry: ((event: RetryEvent) => void) | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #limiter: RequestLimiter;
  readonly #stats: CloudflareApiStats = { requests: 0, retries: 0, waitedMs: 0 };
  #account: Promise<string> | undefined;

  constructor(options: CloudflareApiOptions) {
    this.credentials = options.credentials;
    this.profile = options.profile ?? options.credentials.profile;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#onRetry = options.onRetry;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#limiter = new RequestLimiter(options.limits);
  }

  /** A copy of the counters so far. */
  get stats(): CloudflareApiStats {
    return { ...this.#stats };
  }

  /**
   * Sends `method path` and returns the envelope's `result` (or, with `raw`,
   * the body). Path segments must be URI-encoded by the caller.
   *
   * @throws CloudflareApiError when Cloudflare refuses or fails the request
   *   (`success: false` too, even with HTTP 200), or when the retries run out.
   * @example
   * const script = await api.request("GET", `/accounts/${id}/workers/scripts/${name}/settings`, { notFound: "null", visibleWithinMs: 10_000 });
   */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const outcome = await this.#exchange(method.toUpperCase(), path, options);
    if (outcome === null) return null as T;
    return ("raw" in outcome ? outcome.raw : outcome.envelope.result) as T;
  }

  /**
   * Every item of the list at `path`, following page numbers or cursors.
   *
   * @example
   * const namespaces = await api.paginate<{ id: string; title: string }>(`/accounts/${id}/storage/kv/namespaces`, { per_page: 100 });
   */
  async paginate<T = unknown>(path: string, query: Query = {}, options: PaginateOptions<T> = {}): Promise<T[]> {
    const getPage = async (pageQuery: Query) => {
      const outcome = await this.#exchange("GET", path, { query: pageQuery, headers: options.headers });
      return (outcome as { envelope: Envelope }).envelope;
    };
    return collectPages(getPage, path, query, options);
  }

  /**
   * The account to work in: the credentials' `accountId`, else the first
   * account `GET /accounts` lists (asked once per client).
   *
   * @throws ProfileError when the token sees no account.
   */
  accountId(): Promise<string> {
    if (this.credentials.accountId) return Promise.resolve(this.credentials.accountId);
    this.#account ??= this.#firstAccount().catch((error: unknown) => {
      this.#account = undefined;
      throw error;
    });
    return this.#account;
  }

  /**
   * `/accounts/{accountId}` followed by `suffix`.
   *
   * @example
   * await api.accountPath("/workers/scripts/api"); // "/accounts/abc/workers/scripts/api"
   */
  async accountPath(suffix: string): Promise<string> {
    return `/accounts/${encodeURIComponent(await this.accountId())}${suffix}`;
  }

  async #firstAccount(): Promise<string> {
    const accounts = await this.request<Array<{ id?: unknown }>>("GET", "/accounts", { query: { per_page: 50 } });
    const id = Array.isArray(accounts) ? accounts[0]?.id : undefined;
    if (typeof id === "string" && id !== "") return id;
    const fix = this.credentials.settingFix("accountId");
    throw new ProfileError(`${this.credentials.describeHolder()} sees no Cloudflare account (GET /accounts listed none). Give it access to an account, and set the account with ${fix}.`, {
      profile: this.profile,
      provider: "cloudflare",
    });
  }

  async #exchange(method: string, path: string, options: RequestOptions): Promise<{ envelope: Envelope } | { raw: Uint8Array | string } | null> {
    const url = this.#url(path, options.query);
    const { headers, body } = this.#prepare(options);
    const replayable = !(body instanceof ReadableStream);
    const started = this.#clock.now();
    let rateLimited = 0;
    let rateLimitedMs = 0;
    let failures = 0;
    let notVisible = 0;
    for (let attempt = 1; ; attempt++) {
      await this.#awaitTurn(method, path, attempt);
      this.#stats.requests++;
      let response: Response;
      let bytes: Uint8Array;
      try {
        response = await this.#fetch(url, { method, headers, body, redirect: "manual", ...(replayable ? {} : { duplex: "half" }) });
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (error) {
        if (!isNetworkError(error)) throw error;
        if (++failures >= SERVER_ERROR_ATTEMPTS || !replayable) throw networkError(this.credentials, { status: 0, errors: [], method, path, attempts: attempt }, networkErrorCode(error), error);
        await this.#retry({ reason: "network", waitMs: backoffMs(failures, this.#random), attempt, method, path });
        continue;
      }
      const status = response.status;
      const text = () => new TextDecoder().decode(bytes);
      if (status === 429) {
        if (++rateLimited >= RATE_LIMIT_ATTEMPTS || !replayable) throw rateLimitError(this.credentials, { status, errors: parseEnvelope(text())?.errors ?? [], method, path, attempts: attempt }, rateLimited, rateLimitedMs);
        const waitMs = retryAfterMs(response.headers.get("retry-after"), this.#clock.now());
        rateLimitedMs += waitMs;
        this.#limiter.pause(this.#clock.now() + waitMs);
        await this.#retry({ reason: "rate-limited", status, waitMs, attempt, method, path });
        continue;
      }
      if (status >= 500 || status === 408) {
        if (++failures >= SERVER_ERROR_ATTEMPTS || !replayable) throw this.#failure({ status, errors: [], method, path, attempts: attempt }, text());
        await this.#retry({ reason: "server-error", status, waitMs: backoffMs(failures, this.#random), attempt, method, path });
        continue;
      }
      if (status === 404 && options.visibleWithinMs && replayable) {
        const waitMs = notVisibleDelayMs(++notVisible, this.#clock.now() - started, options.visibleWithinMs);
        if (waitMs !== undefined) {
          await this.#retry({ reason: "not-visible", status, waitMs, attempt, method, path });
          continue;
        }
      }
      if (status === 404 && options.notFound === "null") return null;
      if (status >= 200 && status < 300 && options.raw) return { raw: options.raw === "text" ? text() : bytes };
      const envelope = parseEnvelope(text());
      if (status >= 200 && status < 300 && envelope?.success) return { envelope };
      throw this.#failure({ status, errors: [], method, path, attempts: attempt }, text());
    }
  }

  /** The error for a final answer; the body is quoted only when it carries no envelope errors. */
  #failure(details: CloudflareApiErrorDetails, text: string): CloudflareApiError {
    const errors = parseEnvelope(text)?.errors ?? [];
    return apiError(this.credentials, { ...details, errors }, { body: errors.length > 0 ? undefined : text });
  }

  /** Waits for this request's turn under the client's budget and any rate-limit pause. */
  async #awaitTurn(method: string, path: string, attempt: number): Promise<void> {
    const now = this.#clock.now();
    const start = this.#limiter.reserve(now);
    if (start > now) {
      const reason = this.#limiter.pausedUntil >= start ? "rate-limited" : "client-limit";
      await this.#wait({ reason, waitMs: start - now, attempt, method, path });
    }
    // A 429 of another request may have paused the client while this one waited.
    for (let t = this.#clock.now(); this.#limiter.pausedUntil > t; t = this.#clock.now()) {
      await this.#wait({ reason: "rate-limited", waitMs: this.#limiter.pausedUntil - t, attempt, method, path });
    }
  }

  async #retry(event: RetryEvent): Promise<void> {
    this.#stats.retries++;
    await this.#wait(event);
  }

  async #wait(event: RetryEvent): Promise<void> {
    this.#stats.waitedMs += event.waitMs;
    try {
      this.#onRetry?.(event);
    } catch {
      // A progress display that fails must not fail the deploy it reports on.
    }
    await this.#clock.sleep(event.waitMs);
  }

  #prepare(options: RequestOptions): { headers: Record<string, string>; body: RequestBody | undefined } {
    const headers: Record<string, string> = {};
    const form = options.body instanceof FormData;
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      const lower = name.toLowerCase();
      if (AUTH_HEADERS.has(lower) || (form && lower === "content-type")) continue;
      headers[lower] = value;
    }
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = "application/json";
    }
    return { headers: { ...headers, ...this.credentials.authHeaders() }, body };
  }

  /** The absolute URL of `path`, which must stay below the base URL: credentials go nowhere else. */
  #url(path: string, query: Query | undefined): URL {
    const base = new URL(this.credentials.baseUrl);
    const basePath = base.pathname.replace(/\/$/, "");
    let url: URL | undefined;
    if (typeof path === "string" && path.startsWith("/") && !path.startsWith("//")) {
      try {
        url = new URL(this.credentials.baseUrl + path);
      } catch {
        url = undefined;
      }
    }
    if (!url || url.origin !== base.origin || !(url.pathname === basePath || url.pathname.startsWith(`${basePath}/`))) {
      throw new AlchemyError(
        `Cloudflare API path ${JSON.stringify(path)} does not stay below ${this.credentials.baseUrl}: pass a path starting with "/" (e.g. "/accounts/abc/d1/database"), without "..", and encode names with encodeURIComponent. The client sends credentials nowhere else.`,
      );
    }
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    return url;
  }
}
