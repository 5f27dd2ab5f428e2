/**
 * One connection to the Cloudflare REST API per set of credentials per
 * process, for the R2 state store: a {@link CloudflareApi} (auth, envelope,
 * retries, `Retry-After`, the request budget) plus the two things the store
 * needs that the client does not return or offer:
 *
 * - the headers of the final response of a request (R2's `ETag` of a GET);
 * - a check run before EVERY attempt of a request, retries included, so that
 *   a fenced write whose lease ran out is never sent, not even as a retry
 *   after a 5xx or a 429 wait.
 *
 * Both ride on the client's injectable `fetch`: the request runs inside an
 * AsyncLocalStorage context that the wrapping fetch reads. The token never
 * passes through here; it stays inside the credentials, which add it to each
 * request themselves.
 *
 * The connection also caps the requests in flight (R2 state reads fan out to
 * one GET per record) and holds what the process shares per connection: the
 * fences of the stages it has locked, and which buckets passed the
 * conditional-PUT probe.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import { CloudflareApi, type RequestOptions } from "../../providers/cloudflare/remote/api-client.js";
import type { CloudflareCredentials } from "../../providers/cloudflare/remote/credentials.js";
import type { RequestLimits } from "../../providers/cloudflare/remote/request-limiter.js";
import { InFlight } from "../objects/in-flight.js";
import { newBucketSession, type BucketSession } from "../objects/object-bucket.js";

/** Requests one connection keeps in flight at most; more wait their turn. */
const MAX_IN_FLIGHT = 16;

/** What the wrapping fetch reads and writes for one request. */
interface Exchange {
  /** Throws to keep the next attempt from being sent. */
  readonly beforeSend?: () => void;
  /** Headers of the last response received. */
  headers?: Headers;
}

/** What a request answered: the client's result and the final response's headers. */
export interface Answer<T> {
  result: T;
  headers: Headers | undefined;
}

/**
 * A shared client, its fences and its probe results. Get one with {@link r2Connection}.
 *
 * @example
 * const connection = r2Connection(credentials, {});
 * const { result, headers } = await connection.send<string>("GET", path, { raw: "text" });
 * headers?.get("etag");
 */
export class R2Connection {
  readonly api: CloudflareApi;
  /** The fences of the stages this process locked through this connection, and the buckets probed. */
  readonly session: BucketSession = newBucketSession();
  readonly #exchanges = new AsyncLocalStorage<Exchange>();
  readonly #inFlight = new InFlight(MAX_IN_FLIGHT);

  constructor(credentials: CloudflareCredentials, fetchImpl: typeof fetch, limits?: RequestLimits) {
    const exchanges = this.#exchanges;
    const tracked: typeof fetch = async (input, init) => {
      const exchange = exchanges.getStore();
      exchange?.beforeSend?.();
      const response = await fetchImpl(input, init);
      if (exchange !== undefined) exchange.headers = response.headers;
      return response;
    };
    this.api = new CloudflareApi({ credentials, fetch: tracked, limits });
  }

  /**
   * `api.request(method, path, options)`, with the final response's headers;
   * `beforeSend` runs before each attempt and may throw to stop the request
   * (its error is rethrown as it is).
   */
  async send<T>(method: string, path: string, options: RequestOptions, beforeSend?: () => void, urgent = false): Promise<Answer<T>> {
    return this.#inFlight.run(async () => {
      const exchange: Exchange = { beforeSend };
      const result = await this.#exchanges.run(exchange, () => this.api.request<T>(method, path, options));
      return { result, headers: exchange.headers };
    }, urgent);
  }
}

/** Connections by fetch, then by a hash of the credentials and limits. */
const connections = new WeakMap<typeof fetch, Map<string, R2Connection>>();

/**
 * The process's connection for `credentials` over `fetchImpl`: every store
 * with the same credentials, fetch and limits shares one, and so one request
 * budget and one fence per locked stage.
 *
 * @example
 * const connection = r2Connection(cloudflareCredentials(settings, process.env, "default"), {});
 */
export function r2Connection(credentials: CloudflareCredentials, options: { fetch?: typeof fetch; limits?: RequestLimits }): R2Connection {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  let byKey = connections.get(fetchImpl);
  if (byKey === undefined) connections.set(fetchImpl, (byKey = new Map()));
  // A hash, so that the map holds no token.
  const key = createHash("sha256")
    .update(JSON.stringify([credentials.baseUrl, credentials.accountId ?? null, credentials.authHeaders(), options.limits ?? null]))
    .digest("hex");
  let connection = byKey.get(key);
  if (connection === undefined) byKey.set(key, (connection = new R2Connection(credentials, fetchImpl, options.limits)));
  return connection;
}
