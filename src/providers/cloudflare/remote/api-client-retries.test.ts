import { afterEach, describe, expect, it } from "vitest";
import { CloudflareApi, type CloudflareApiOptions } from "./api-client.js";
import { CloudflareApiError } from "./api-error.js";
import { cloudflareCredentials } from "./credentials.js";
import type { RetryEvent } from "./retry-policy.js";
import { fail, fakeClock, ok, stubServer, type FakeClock, type StubAnswer, type StubRequest, type StubServer } from "./stub-server.test-fixture.js";

const TOKEN = "CANARY-cf-token-0b9c";
const servers: StubServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A client of a stub answering `answers` in turn (the last one from then on), with a fake clock and recorded events. */
async function setup(answers: StubAnswer[] | ((request: StubRequest, index: number) => StubAnswer), options: Partial<CloudflareApiOptions> = {}) {
  const handler = typeof answers === "function" ? answers : (_: StubRequest, index: number) => answers[Math.min(index, answers.length - 1)];
  const server = await stubServer(handler);
  servers.push(server);
  const clock: FakeClock = fakeClock();
  const events: RetryEvent[] = [];
  const credentials = cloudflareCredentials({ apiToken: TOKEN, baseUrl: server.baseUrl }, {}, "ci");
  const api = new CloudflareApi({ credentials, profile: "ci", clock, onRetry: (event) => events.push(event), ...options });
  return { server, api, clock, events };
}

async function rejection(promise: Promise<unknown>): Promise<CloudflareApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CloudflareApiError);
  return error as CloudflareApiError;
}

const rateLimited = (retryAfter?: string): StubAnswer => fail(429, [{ code: 971, message: "Please wait and consider throttling your request speed" }], retryAfter === undefined ? {} : { "retry-after": retryAfter });

describe("CloudflareApi on 429", () => {
  it("waits exactly retry-after seconds and then succeeds, reporting the wait", async () => {
    const { api, clock, events } = await setup([rateLimited("42"), ok("done")]);
    expect(await api.request("GET", "/accounts/abc/workers/scripts")).toBe("done");
    expect(clock.sleeps).toEqual([42_000]);
    expect(events).toEqual([{ reason: "rate-limited", status: 429, waitMs: 42_000, attempt: 1, method: "GET", path: "/accounts/abc/workers/scripts" }]);
    expect(api.stats).toEqual({ requests: 2, retries: 1, waitedMs: 42_000 });
  });

  it("reads a Retry-After date, and waits 60 s when there is none", async () => {
    const dated = await setup([rateLimited(new Date(1_700_000_000_000 + 30_000).toUTCString()), ok("done")]);
    dated.clock.set(1_700_000_000_000);
    await dated.api.request("GET", "/accounts");
    expect(dated.clock.sleeps).toEqual([30_000]);
    const missing = await setup([rateLimited(), ok("done")]);
    await missing.api.request("GET", "/accounts");
    expect(missing.clock.sleeps).toEqual([60_000]);
  });

  it("fails at the eighth 429, naming the rate limit and the profile, after more than 5 minutes of waiting", async () => {
    const { api, server, clock, events } = await setup([rateLimited("60")]);
    const error = await rejection(api.request("POST", "/accounts/abc/queues", { json: { queue_name: "jobs" } }));
    expect(server.requests).toHaveLength(8);
    expect(clock.sleeps).toEqual(Array(7).fill(60_000));
    expect(events.map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(error).toMatchObject({ status: 429, codes: [971], attempts: 8, method: "POST", path: "/accounts/abc/queues" });
    expect(error.message).toBe(
      `Cloudflare kept rate limiting POST /accounts/abc/queues (429 on 8 attempts, 420 s of waiting): the API token of profile "ci" is over Cloudflare's limit of 1,200 requests per 5 minutes, ` +
        `perhaps because another run or tool uses the same token. Wait a few minutes and run again, or give this run a token of its own.`,
    );
    expect(error.message).not.toContain(TOKEN);
  });

  it("holds back the client's other requests until the retry-after has passed", async () => {
    let started = false;
    let second: Promise<unknown> | undefined;
    const events: RetryEvent[] = [];
    const { api } = await setup((_, index) => (index === 0 ? rateLimited("10") : ok("done")), {
      onRetry: (event) => {
        events.push(event);
        // Another request of the client starts while the first waits out its 429.
        if (!started) {
          started = true;
          second = api.request("GET", "/second");
        }
      },
    });
    await api.request("GET", "/first");
    await second;
    expect(events).toEqual([
      { reason: "rate-limited", status: 429, waitMs: 10_000, attempt: 1, method: "GET", path: "/first" },
      { reason: "rate-limited", waitMs: 10_000, attempt: 1, method: "GET", path: "/second" },
    ]);
  });
});

describe("CloudflareApi on 5xx, 408 and network failures", () => {
  it("backs off with full jitter below 250 ms, 500 ms, 1 s, 2 s and then succeeds", async () => {
    const { api, clock, events } = await setup([fail(503, []), fail(502, []), { status: 408, text: "timeout" }, fail(500, []), ok("done")], { random: () => 0.9999 });
    expect(await api.request("GET", "/accounts")).toBe("done");
    expect(clock.sleeps).toEqual([249, 499, 999, 1999]);
    expect(events.map((e) => [e.reason, e.status])).toEqual([
      ["server-error", 503],
      ["server-error", 502],
      ["server-error", 408],
      ["server-error", 500],
    ]);
    expect(api.stats).toEqual({ requests: 5, retries: 4, waitedMs: 249 + 499 + 999 + 1999 });
  });

  it("waits a random share of each bound, never more", async () => {
    const { api, clock } = await setup([fail(500, []), fail(500, []), fail(500, []), ok("done")]);
    await api.request("GET", "/accounts");
    clock.sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(250 * 2 ** i);
    });
  });

  it("fails at the fifth server error, quoting what Cloudflare said", async () => {
    const { api, server } = await setup([{ status: 502, text: "<html>Bad gateway</html>" }], { random: () => 0 });
    const error = await rejection(api.request("GET", "/accounts/abc/d1/database"));
    expect(server.requests).toHaveLength(5);
    expect(error).toMatchObject({ status: 502, attempts: 5 });
    expect(error.message).toBe(
      'Cloudflare failed GET /accounts/abc/d1/database on 5 attempts (502): "<html>Bad gateway</html>". Cloudflare may be having trouble (https://www.cloudflarestatus.com); run again later.',
    );
  });

  it("retries a connection reset by the server", async () => {
    const { api, events } = await setup(["destroy", ok("done")], { random: () => 0.5 });
    expect(await api.request("GET", "/accounts")).toBe("done");
    expect(events).toEqual([{ reason: "network", waitMs: 125, attempt: 1, method: "GET", path: "/accounts" }]);
  });

  it("fails after five network failures, naming the base URL and the error code", async () => {
    const { api, server } = await setup(["destroy"], { random: () => 0 });
    const error = await rejection(api.request("GET", "/accounts"));
    expect(server.requests).toHaveLength(5);
    expect(error.status).toBe(0);
    expect(error.message).toMatch(new RegExp(`^Could not reach Cloudflare at ${server.baseUrl} for GET /accounts after 5 attempts \\((ECONNRESET|UND_ERR_SOCKET)\\)`));
    expect(error.message).toContain('the base URL (`alchemy profile set ci cloudflare.baseUrl=...`)');
  });

  it("does not retry a streamed body, which cannot be sent twice", async () => {
    const { api, server } = await setup([fail(503, []), ok("done")]);
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode("x")), c.close()) });
    await rejection(api.request("PUT", "/accounts/abc/r2/buckets/b/objects/k", { body }));
    expect(server.requests).toHaveLength(1);
  });
});

describe("CloudflareApi on a 404 right after a create", () => {
  it("looks again with growing waits while visibleWithinMs has not passed", async () => {
    const notFound = fail(404, [{ code: 10007, message: "workers.api.error.script_not_found" }]);
    const { api, events } = await setup([notFound, notFound, ok({ id: "api" })]);
    expect(await api.request("GET", "/accounts/abc/workers/scripts/api/settings", { visibleWithinMs: 10_000 })).toEqual({ id: "api" });
    expect(events.map((e) => [e.reason, e.waitMs])).toEqual([
      ["not-visible", 250],
      ["not-visible", 500],
    ]);
  });

  it("gives up exactly when visibleWithinMs has passed, then handles the 404 as notFound says", async () => {
    const { api, clock } = await setup([fail(404, [])]);
    await expect(api.request("GET", "/accounts/abc/d1/database/x", { visibleWithinMs: 1000, notFound: "null" })).resolves.toBeNull();
    expect(clock.sleeps).toEqual([250, 500, 250]);
    const error = await rejection(api.request("GET", "/accounts/abc/d1/database/x", { visibleWithinMs: 1000 }));
    expect(error.notFound).toBe(true);
  });

  it("does not retry a 404 without visibleWithinMs", async () => {
    const { api, server } = await setup([fail(404, [])]);
    await api.request("GET", "/accounts/abc/d1/database/x", { notFound: "null" });
    expect(server.requests).toHaveLength(1);
  });
});

describe("CloudflareApi's own request budget", () => {
  it("holds the request past the budget until the window has passed, and fails none", async () => {
    const { api, server, events } = await setup([ok("done")], { limits: { requests: 10, windowMs: 1000, burst: 10 } });
    const results = await Promise.all(Array.from({ length: 11 }, (_, i) => api.request("GET", `/accounts/abc/r${i}`)));
    expect(results).toEqual(Array(11).fill("done"));
    expect(server.requests).toHaveLength(11);
    expect(events).toEqual([{ reason: "client-limit", waitMs: 1000, attempt: 1, method: "GET", path: "/accounts/abc/r10" }]);
    expect(api.stats).toEqual({ requests: 11, retries: 0, waitedMs: 1000 });
  });

  it("smooths a burst past the burst allowance to the sustained rate", async () => {
    const { api, events } = await setup([ok("done")], { limits: { requests: 8, windowMs: 800, burst: 2 } });
    await Promise.all(Array.from({ length: 6 }, (_, i) => api.request("GET", `/r${i}`)));
    expect(events.map((e) => [e.path, e.waitMs])).toEqual([
      ["/r2", 100],
      ["/r3", 200],
      ["/r4", 300],
      ["/r5", 400],
    ]);
  });
});
