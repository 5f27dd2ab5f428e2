/**
 * The R2 state store's tests against the fake Cloudflare API: one fake per
 * test file, a fresh bucket per case, and a request budget the fake allows.
 *
 * @module
 */
import { afterAll } from "vitest";
import { DEFAULT_TOKEN, startFakeCloudflare, type FakeCloudflare, type FakeCloudflareOptions } from "../../providers/cloudflare/remote/fake/fake-cloudflare.test-fixture.js";
import type { FakeR2Bucket } from "../../providers/cloudflare/remote/fake/fake-state.test-fixture.js";
import type { State } from "../state-store.js";
import type { R2RestStateStoreOptions } from "./r2-rest-state-store.js";

/** The fake answers as fast as it can; Cloudflare's budget would make the 10,000-record case take 40 minutes. */
export const FAKE_LIMITS = { requests: 1_000_000, windowMs: 1_000, burst: 1_000_000 };

/** The fake of this test file, started on first use and closed after all its tests. */
export function useFakeCloudflare(options?: FakeCloudflareOptions): () => Promise<FakeCloudflare> {
  let started: Promise<FakeCloudflare> | undefined;
  afterAll(async () => {
    await (await started)?.close();
  });
  return () => (started ??= startFakeCloudflare(options));
}

let buckets = 0;

/** Creates a bucket no other case of this process uses, and returns its name. */
export async function freshBucket(fake: FakeCloudflare): Promise<string> {
  const name = `state-${process.pid}-${++buckets}`;
  const response = await fetch(`${fake.baseUrl}/accounts/${fake.accountId}/r2/buckets`, {
    method: "POST",
    headers: { authorization: `Bearer ${DEFAULT_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (!response.ok) throw new Error(`could not create bucket ${name}: ${response.status} ${await response.text()}`);
  return name;
}

/** Options of a store on `bucket` of `fake`, with the fake's token and a budget it allows. */
export function fakeOptions(fake: FakeCloudflare, bucket: string, extra: Partial<R2RestStateStoreOptions> = {}): R2RestStateStoreOptions {
  return { bucket, apiToken: DEFAULT_TOKEN, baseUrl: fake.baseUrl, accountId: fake.accountId, requestLimits: FAKE_LIMITS, ...extra };
}

/** A fetch of its own: stores given it share no client (nor lock fence) with others, as another process would. */
export function separateFetch(): typeof fetch {
  return (input, init) => fetch(input, init);
}

/** The fake's bucket `name` in its first account. */
export function fakeBucket(fake: FakeCloudflare, name: string): FakeR2Bucket {
  const bucket = fake.state.r2Buckets.get(`${fake.accountId}/default/${name}`);
  if (bucket === undefined) throw new Error(`no bucket ${name}`);
  return bucket;
}

/** The text of object `key` of bucket `name`, or undefined. */
export function objectText(fake: FakeCloudflare, name: string, key: string): string | undefined {
  const object = fakeBucket(fake, name).objects.get(key);
  return object === undefined ? undefined : Buffer.from(object.body).toString("utf8");
}

/** A valid record `id` of the scope `chain`. */
export function record(chain: readonly string[], id: string, extra: Partial<State> = {}): State {
  return { status: "created", kind: "test::Thing", id, fqn: [...chain, id].join("/"), seq: 1, data: {}, props: { name: id }, output: { ok: true }, deps: [], ...extra };
}
