/**
 * The client's own request budget, so that a big deploy slows down before
 * Cloudflare blocks its token for 5 minutes (1,200 requests per 5 minutes
 * per token). Two rules, both by reservation so that concurrent requests need
 * no lock:
 *
 * - a token bucket smooths bursts: `burst` requests may start at once, then
 *   one every `windowMs / requests` (4 per second by default);
 * - a sliding window is the hard cap: never more than `requests` starts in
 *   any `windowMs`, even counting the initial burst.
 *
 * A 429 from Cloudflare pauses every later request until its `retry-after`
 * has passed ({@link RequestLimiter.pause}): the other requests of the client
 * would only be refused too, and each refusal counts against the token.
 *
 * Requests wait, they never fail here.
 *
 * @module
 */
import { AlchemyError } from "../../../core/errors.js";

/** A request budget: at most `requests` per `windowMs`, of which `burst` may start at once. */
export interface RequestLimits {
  requests: number;
  windowMs: number;
  /** @default Math.ceil(requests / 4) */
  burst?: number;
}

/** Cloudflare's documented limit: 1,200 requests per 5 minutes per token. */
export const CLOUDFLARE_LIMITS: Readonly<RequestLimits> = Object.freeze({ requests: 1200, windowMs: 300_000 });

/**
 * Reserves start times for requests under {@link RequestLimits}.
 *
 * @example
 * const limiter = new RequestLimiter({ requests: 1200, windowMs: 300_000 });
 * const startAt = limiter.reserve(Date.now());
 * await sleep(startAt - Date.now());
 */
export class RequestLimiter {
  readonly limits: Readonly<Required<RequestLimits>>;
  readonly #intervalMs: number;
  readonly #toleranceMs: number;
  /** Theoretical arrival time of the next request (GCRA). */
  #tat = -Infinity;
  /** Start times of the last `requests` reservations, oldest at `#oldest` once full. */
  readonly #starts: number[] = [];
  #oldest = 0;
  #pausedUntil = -Infinity;

  constructor(limits: RequestLimits = CLOUDFLARE_LIMITS) {
    const burst = limits.burst ?? Math.max(1, Math.ceil(limits.requests / 4));
    if (!Number.isInteger(limits.requests) || limits.requests < 1 || !(limits.windowMs > 0) || !Number.isInteger(burst) || burst < 1 || burst > limits.requests) {
      throw new AlchemyError(
        `Invalid Cloudflare request limits ${JSON.stringify(limits)}: requests must be a whole number of at least 1, windowMs above 0, and burst a whole number from 1 to requests.`,
      );
    }
    this.limits = Object.freeze({ requests: limits.requests, windowMs: limits.windowMs, burst });
    this.#intervalMs = limits.windowMs / limits.requests;
    this.#toleranceMs = (burst - 1) * this.#intervalMs;
  }

  /**
   * Reserves the earliest start, at or after `now`, that keeps within the
   * limits and after any pause; the caller waits until then and sends.
   */
  reserve(now: number): number {
    let start = Math.max(now, this.#tat - this.#toleranceMs, this.#pausedUntil);
    if (this.#starts.length === this.limits.requests) {
      start = Math.max(start, this.#starts[this.#oldest] + this.limits.windowMs);
      this.#starts[this.#oldest] = start;
      this.#oldest = (this.#oldest + 1) % this.limits.requests;
    } else {
      this.#starts.push(start);
    }
    this.#tat = Math.max(this.#tat, start) + this.#intervalMs;
    return start;
  }

  /** Holds back every request not yet sent until `until` (a 429's `retry-after`). */
  pause(until: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, until);
  }

  /** The end of the current pause; in the past when there is none. */
  get pausedUntil(): number {
    return this.#pausedUntil;
  }
}
