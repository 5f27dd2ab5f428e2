/**
 * When the Cloudflare API client tries a request again, and how long it waits
 * first. Every wait is reported as a {@link RetryEvent}, so that a progress
 * display can say why a deploy stands still.
 *
 * - 429: Cloudflare blocks the token for up to 5 minutes once it passes 1,200
 *   requests in 5 minutes. The client waits exactly what `retry-after` says
 *   (seconds or an HTTP date; 60 s when absent), and gives up only at the
 *   {@link RATE_LIMIT_ATTEMPTS}th 429, i.e. after at least 7 minutes of
 *   waiting with the default: longer than any block.
 * - 5xx, 408 and network failures: exponential backoff with full jitter
 *   (a random wait below 250 ms, 500 ms, 1 s, ... capped at 10 s), at most
 *   {@link SERVER_ERROR_ATTEMPTS} attempts, so that many clients do not retry
 *   in step.
 * - 404 right after a create ("not visible yet"): doubling waits from 250 ms,
 *   until the caller's `visibleWithinMs` has passed.
 *
 * @module
 */

/** Why a request waits. `client-limit` is the client's own request budget, not Cloudflare's. */
export type RetryReason = "rate-limited" | "server-error" | "network" | "not-visible" | "client-limit";

/** One wait of the client, reported to `onRetry` before it starts. */
export interface RetryEvent {
  reason: RetryReason;
  /** HTTP status that caused the wait, when there was a response. */
  status?: number;
  /** How long the client is about to wait. */
  waitMs: number;
  /** Which attempt of the request this wait follows (1 = the first); for `client-limit`, the attempt about to start. */
  attempt: number;
  method: string;
  /** Path below the base URL, e.g. `/accounts/abc/workers/scripts/api`. */
  path: string;
}

/** Requests answered 429 this many times fail. */
export const RATE_LIMIT_ATTEMPTS = 8;
/** Wait after a 429 without a usable `retry-after`. */
export const DEFAULT_RETRY_AFTER_MS = 60_000;
/** Requests failing with 5xx, 408 or a network error this many times fail. */
export const SERVER_ERROR_ATTEMPTS = 5;
/** First backoff bound for 5xx, 408 and network errors, and first not-visible wait. */
export const BACKOFF_BASE_MS = 250;
/** Largest backoff bound. */
export const BACKOFF_CAP_MS = 10_000;

/**
 * How long a 429 asks to wait: `retry-after` in seconds, or an HTTP date
 * relative to `now`; {@link DEFAULT_RETRY_AFTER_MS} when missing or unreadable.
 *
 * @example
 * retryAfterMs("42", Date.now()); // 42000
 */
export function retryAfterMs(header: string | null, now: number): number {
  if (header === null || header.trim() === "") return DEFAULT_RETRY_AFTER_MS;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return DEFAULT_RETRY_AFTER_MS;
  return Math.max(0, date - now);
}

/**
 * Full-jitter backoff after failed attempt `attempt` (1-based): a wait in
 * `[0, min(cap, base * 2^(attempt-1)))`.
 *
 * @example
 * backoffMs(3, Math.random); // somewhere below 1000
 */
export function backoffMs(attempt: number, random: () => number): number {
  return Math.floor(random() * backoffBoundMs(attempt));
}

/** The upper bound of {@link backoffMs} after attempt `attempt`. */
export function backoffBoundMs(attempt: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
}

/**
 * The wait before looking again for something created `elapsedMs` ago that
 * should be visible within `visibleWithinMs`; undefined when that time has
 * passed and a 404 is final.
 */
export function notVisibleDelayMs(attempt: number, elapsedMs: number, visibleWithinMs: number): number | undefined {
  const remaining = visibleWithinMs - elapsedMs;
  if (remaining <= 0) return undefined;
  return Math.min(remaining, backoffBoundMs(attempt));
}

const NETWORK_CODES = new Set(["ECONNRESET", "ETIMEDOUT", "ECONNREFUSED", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "ENETUNREACH", "EHOSTUNREACH"]);

/**
 * Whether `error`, thrown by `fetch` or while reading a body, is a network
 * failure worth retrying (`fetch failed`, a reset or timed-out connection),
 * and not a bug or an abort.
 */
export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error) || error.name === "AbortError") return false;
  if (error.name === "TypeError" && error.message === "fetch failed") return true;
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (NETWORK_CODES.has(code) || code.startsWith("UND_ERR_"))) return true;
  }
  return false;
}

/** The network error's code for messages, e.g. `ECONNRESET`, else its message. */
export function networkErrorCode(error: unknown): string {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A line for a progress display.
 *
 * @example
 * describeRetry({ reason: "rate-limited", status: 429, waitMs: 42_000, attempt: 1, method: "GET", path: "/accounts" });
 * // "rate limited by Cloudflare, resuming in 42 s (GET /accounts)"
 */
export function describeRetry(event: RetryEvent): string {
  const wait = event.waitMs >= 1000 ? `${Math.round(event.waitMs / 1000)} s` : `${Math.round(event.waitMs)} ms`;
  const what = {
    "rate-limited": "rate limited by Cloudflare, resuming",
    "server-error": `Cloudflare answered ${event.status ?? "an error"}, retrying`,
    network: "network error talking to Cloudflare, retrying",
    "not-visible": "not visible yet on Cloudflare, looking again",
    "client-limit": "pacing requests to stay under Cloudflare's rate limit, next one",
  }[event.reason];
  return `${what} in ${wait} (${event.method} ${event.path})`;
}
