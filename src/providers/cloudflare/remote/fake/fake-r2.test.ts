import { describe, expect, it } from "vitest";
import { call, inAccount, useFake } from "./fake-client.test-fixture.js";
import type { FakeCloudflare } from "./fake-cloudflare.test-fixture.js";

const BUCKETS = "/r2/buckets";

async function createBucket(fake: FakeCloudflare, name: string, headers?: Record<string, string>) {
  const res = await call(fake, "POST", inAccount(fake, BUCKETS), { json: { name }, headers });
  expect(res.status).toBe(200);
  return res.body.result;
}

function putObject(fake: FakeCloudflare, bucket: string, key: string, body: string, headers?: Record<string, string>) {
  return call(fake, "PUT", inAccount(fake, `${BUCKETS}/${bucket}/objects/${key}`), { body, headers });
}

describe("the fake Cloudflare API: R2 buckets", () => {
  const fake = useFake();

  it("creates a bucket, and answers 409 with code 10004 when it exists", async () => {
    const res = await call(fake(), "POST", inAccount(fake(), BUCKETS), { json: { name: "media", locationHint: "weur", storageClass: "InfrequentAccess" } });
    expect(res.body.result).toMatchObject({ name: "media", location: "WEUR", storage_class: "InfrequentAccess", jurisdiction: "default" });
    const again = await call(fake(), "POST", inAccount(fake(), BUCKETS), { json: { name: "media" } });
    expect(again.status).toBe(409);
    expect(again.body.errors[0].code).toBe(10004);
    const badName = await call(fake(), "POST", inAccount(fake(), BUCKETS), { json: { name: "Bad_Name" } });
    expect(badName.status).toBe(400);
    expect(badName.body.errors[0].code).toBe(10005);
  });

  it("lists buckets as result.buckets, and gets one", async () => {
    await createBucket(fake(), "b-one");
    await createBucket(fake(), "b-two");
    const list = await call(fake(), "GET", inAccount(fake(), BUCKETS));
    expect(list.body.result.buckets.map((bucket: { name: string }) => bucket.name)).toEqual(["b-one", "b-two"]);
    expect((await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/b-two`))).body.result.name).toBe("b-two");
    const missing = await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/b-three`));
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0].code).toBe(10006);
  });

  it("keeps buckets of each jurisdiction apart: one made in eu is not found without the header", async () => {
    const eu = { "cf-r2-jurisdiction": "eu" };
    expect((await createBucket(fake(), "euro", eu)).jurisdiction).toBe("eu");
    expect((await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/euro`))).status).toBe(404);
    expect((await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/euro`), { headers: eu })).status).toBe(200);
    expect((await call(fake(), "GET", inAccount(fake(), BUCKETS))).body.result.buckets).toEqual([]);
    expect((await call(fake(), "DELETE", inAccount(fake(), `${BUCKETS}/euro`), { headers: eu })).status).toBe(200);
  });

  it("refuses to delete a bucket holding objects (409, code 10008), then deletes it once empty", async () => {
    await createBucket(fake(), "full");
    await putObject(fake(), "full", "a.txt", "a");
    const refused = await call(fake(), "DELETE", inAccount(fake(), `${BUCKETS}/full`));
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0].code).toBe(10008);
    await call(fake(), "DELETE", inAccount(fake(), `${BUCKETS}/full/objects/a.txt`));
    expect((await call(fake(), "DELETE", inAccount(fake(), `${BUCKETS}/full`))).status).toBe(200);
    expect((await call(fake(), "DELETE", inAccount(fake(), `${BUCKETS}/full`))).body.errors[0].code).toBe(10006);
  });
});

describe("the fake Cloudflare API: R2 objects", () => {
  const fake = useFake();

  it("stores a raw body and serves it back raw with a quoted MD5 ETag and its content type", async () => {
    await createBucket(fake(), "objects");
    const put = await putObject(fake(), "objects", "dir/note.txt", "hello", { "content-type": "text/plain" });
    expect(put.body.result).toMatchObject({ key: "dir/note.txt", etag: "5d41402abc4b2a76b9719d911017c592", size: 5 });
    const got = await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/objects/objects/dir/note.txt`));
    expect(got.body).toBe("hello");
    expect(got.headers.get("etag")).toBe('"5d41402abc4b2a76b9719d911017c592"');
    expect(got.headers.get("content-type")).toBe("text/plain");
    const encoded = await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/objects/objects/${encodeURIComponent("dir/note.txt")}`));
    expect(encoded.body).toBe("hello");
    expect((await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/objects/objects/nope`))).status).toBe(404);
  });

  it("honours If-None-Match: * and If-Match: <etag> on PUT, answering 412 when they fail", async () => {
    await createBucket(fake(), "cond");
    expect((await putObject(fake(), "cond", "lock", "v1", { "if-match": '"abc"' })).status).toBe(412);
    const first = await putObject(fake(), "cond", "lock", "v1", { "if-none-match": "*" });
    expect(first.status).toBe(200);
    const clash = await putObject(fake(), "cond", "lock", "other", { "if-none-match": "*" });
    expect(clash.status).toBe(412);
    expect(clash.body.success).toBe(false);
    const etag = first.body.result.etag as string;
    expect((await putObject(fake(), "cond", "lock", "v2", { "if-match": `"${etag}"` })).status).toBe(200);
    expect((await putObject(fake(), "cond", "lock", "v3", { "if-match": `"${etag}"` })).status).toBe(412); // the ETag moved on with v2
    expect(Buffer.from(fake().state.r2Buckets.get(`${fake().accountId}/default/cond`)!.objects.get("lock")!.body).toString()).toBe("v2");
  });

  it("lists objects by prefix and delimiter, with a cursor", async () => {
    await createBucket(fake(), "tree");
    for (const key of ["a/1", "a/2", "a/sub/3", "b/4", "top"]) await putObject(fake(), "tree", key, key);
    const root = await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/tree/objects?delimiter=/`));
    expect(root.body.result.map((object: { key: string }) => object.key)).toEqual(["top"]);
    expect(root.body.result_info.delimited).toEqual(["a/", "b/"]);
    const inA = await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/tree/objects?prefix=a/&delimiter=/`));
    expect(inA.body.result.map((object: { key: string }) => object.key)).toEqual(["a/1", "a/2"]);
    expect(inA.body.result_info.delimited).toEqual(["a/sub/"]);
    const paged = await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/tree/objects?per_page=3`));
    expect(paged.body.result_info).toMatchObject({ is_truncated: true, per_page: 3 });
    const rest = await call(fake(), "GET", inAccount(fake(), `${BUCKETS}/tree/objects?per_page=3&cursor=${paged.body.result_info.cursor}`));
    expect(rest.body.result.map((object: { key: string }) => object.key)).toEqual(["b/4", "top"]);
    expect(rest.body.result_info.is_truncated).toBe(false);
  });
});
