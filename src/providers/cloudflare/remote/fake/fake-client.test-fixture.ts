/**
 * Plain-fetch helpers for the fake's own tests: a call returns the status, headers and body
 * (the parsed envelope when the answer is JSON, else the bytes as text).
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { DEFAULT_TOKEN, startFakeCloudflare, type FakeCloudflare, type FakeCloudflareOptions } from "./fake-cloudflare.test-fixture.js";

/** What a call answered. `body` is the envelope for JSON answers. */
export interface CallResult {
  readonly status: number;
  readonly headers: Headers;
  // any: tests read envelopes of many shapes.
  readonly body: any;
}

/** How to call. */
export interface CallInit {
  /** Sent as JSON with its content type. */
  readonly json?: unknown;
  readonly body?: RequestInit["body"];
  readonly headers?: Record<string, string>;
  /** The bearer token; null sends no credentials. @default DEFAULT_TOKEN */
  readonly token?: string | null;
}

/** Calls `path` (after `/client/v4`) on `fake`. */
export async function call(fake: FakeCloudflare, method: string, path: string, init: CallInit = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? DEFAULT_TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body = init.body;
  if (init.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.json);
  }
  const response = await fetch(`${fake.baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  const isJson = (response.headers.get("content-type") ?? "").includes("application/json");
  return { status: response.status, headers: response.headers, body: isJson ? JSON.parse(text) : text };
}

/** `/accounts/<the fake's first account>` followed by `suffix`. */
export function inAccount(fake: FakeCloudflare, suffix: string): string {
  return `/accounts/${fake.accountId}${suffix}`;
}

/** Starts one fake for the enclosing `describe`, emptied before each test and closed after all. */
export function useFake(options?: FakeCloudflareOptions): () => FakeCloudflare {
  let fake: FakeCloudflare | undefined;
  beforeAll(async () => {
    fake = await startFakeCloudflare(options);
  });
  beforeEach(() => fake?.reset());
  afterAll(async () => {
    await fake?.close();
  });
  return () => {
    if (fake === undefined) throw new Error("useFake: read the fake inside a test");
    return fake;
  };
}
