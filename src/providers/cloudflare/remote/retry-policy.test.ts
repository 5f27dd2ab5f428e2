import { describe, expect, it } from "vitest";
import { backoffBoundMs, backoffMs, describeRetry, isNetworkError, notVisibleDelayMs, retryAfterMs } from "./retry-policy.js";

describe("retry policy", () => {
  it("reads retry-after as seconds or an HTTP date, and defaults to 60 s", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(retryAfterMs("42", now)).toBe(42_000);
    expect(retryAfterMs("0.5", now)).toBe(500);
    expect(retryAfterMs("Wed, 01 Jan 2025 00:01:30 GMT", now)).toBe(90_000);
    expect(retryAfterMs("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs(null, now)).toBe(60_000);
    expect(retryAfterMs("soon", now)).toBe(60_000);
  });

  it("doubles the backoff bound from 250 ms up to a cap of 10 s, and waits a random share of it", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(backoffBoundMs)).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffMs(3, () => 0)).toBe(0);
    expect(backoffMs(3, () => 0.5)).toBe(500);
    expect(backoffMs(30, () => 0.999999)).toBeLessThan(10_000);
  });

  it("looks again for something not visible yet only until visibleWithinMs has passed", () => {
    expect(notVisibleDelayMs(1, 0, 5000)).toBe(250);
    expect(notVisibleDelayMs(3, 750, 5000)).toBe(1000);
    expect(notVisibleDelayMs(5, 4500, 5000)).toBe(500);
    expect(notVisibleDelayMs(1, 5000, 5000)).toBeUndefined();
  });

  it("tells network failures from bugs and aborts", () => {
    expect(isNetworkError(new TypeError("fetch failed", { cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }) }))).toBe(true);
    expect(isNetworkError(Object.assign(new Error("connect ETIMEDOUT"), { code: "ETIMEDOUT" }))).toBe(true);
    expect(isNetworkError(new TypeError("Cannot read properties of undefined"))).toBe(false);
    expect(isNetworkError(new DOMException("aborted", "AbortError"))).toBe(false);
  });

  it("says in words what a progress display should show", () => {
    expect(describeRetry({ reason: "rate-limited", status: 429, waitMs: 42_000, attempt: 1, method: "GET", path: "/accounts" })).toBe(
      "rate limited by Cloudflare, resuming in 42 s (GET /accounts)",
    );
    expect(describeRetry({ reason: "server-error", status: 503, waitMs: 180, attempt: 2, method: "PUT", path: "/x" })).toBe("Cloudflare answered 503, retrying in 180 ms (PUT /x)");
  });
});
