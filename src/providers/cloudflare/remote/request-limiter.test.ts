import { describe, expect, it } from "vitest";
import { AlchemyError } from "../../../core/errors.js";
import { CLOUDFLARE_LIMITS, RequestLimiter } from "./request-limiter.js";

/** The most starts within any `windowMs`. */
function busiestWindow(starts: number[], windowMs: number): number {
  let most = 0;
  for (let first = 0, last = 0; last < starts.length; last++) {
    while (starts[last] - starts[first] >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

describe("RequestLimiter", () => {
  it("holds the 1,201st request of a burst under Cloudflare's limits until the 5-minute window has passed", () => {
    const limiter = new RequestLimiter({ ...CLOUDFLARE_LIMITS, burst: 1200 });
    const starts = Array.from({ length: 1201 }, () => limiter.reserve(0));
    expect(starts.slice(0, 1200).every((start) => start === 0)).toBe(true);
    expect(starts[1200]).toBe(300_000);
  });

  it("by default lets 300 requests start at once, then 4 per second, and never more than 1,200 in any 5 minutes", () => {
    const limiter = new RequestLimiter();
    expect(limiter.limits).toEqual({ requests: 1200, windowMs: 300_000, burst: 300 });
    const starts = Array.from({ length: 5000 }, () => limiter.reserve(0));
    expect(starts.slice(0, 300).every((start) => start === 0)).toBe(true);
    expect(starts.slice(300, 304)).toEqual([250, 500, 750, 1000]);
    expect(starts[1200]).toBe(300_000);
    expect(busiestWindow(starts, 300_000)).toBe(1200);
  });

  it("refills with time, so a client that pauses gets its burst back", () => {
    const limiter = new RequestLimiter({ requests: 10, windowMs: 1000, burst: 5 });
    for (let i = 0; i < 5; i++) expect(limiter.reserve(0)).toBe(0);
    expect(limiter.reserve(0)).toBe(100);
    for (let i = 0; i < 4; i++) expect(limiter.reserve(2_000)).toBe(2_000);
  });

  it("holds every later request until a pause (a 429's retry-after) is over", () => {
    const limiter = new RequestLimiter();
    limiter.reserve(0);
    limiter.pause(42_000);
    limiter.pause(10_000);
    expect(limiter.pausedUntil).toBe(42_000);
    expect(limiter.reserve(1)).toBe(42_000);
  });

  it("rejects limits that could never let a request through", () => {
    for (const limits of [{ requests: 0, windowMs: 1000 }, { requests: 10, windowMs: 0 }, { requests: 10, windowMs: 1000, burst: 11 }, { requests: 1.5, windowMs: 1000 }]) {
      expect(() => new RequestLimiter(limits)).toThrow(AlchemyError);
    }
  });
});
