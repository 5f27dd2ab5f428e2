import { describe, expect, it } from "vitest";
import { call, inAccount, useFake } from "./fake-client.test-fixture.js";
import type { FakeCloudflare } from "./fake-cloudflare.test-fixture.js";

const NAMESPACES = "/storage/kv/namespaces";

async function createNamespace(fake: FakeCloudflare, title: string): Promise<string> {
  const res = await call(fake, "POST", inAccount(fake, NAMESPACES), { json: { title } });
  expect(res.status).toBe(200);
  return res.body.result.id as string;
}

describe("the fake Cloudflare API: KV namespaces", () => {
  const fake = useFake();

  it("creates a namespace with an id, and refuses a second of the same title with 400 and code 10014", async () => {
    const res = await call(fake(), "POST", inAccount(fake(), NAMESPACES), { json: { title: "cache" } });
    expect(res.body.result).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), title: "cache", supports_url_encoding: true });
    const again = await call(fake(), "POST", inAccount(fake(), NAMESPACES), { json: { title: "cache" } });
    expect(again.status).toBe(400);
    expect(again.body.errors[0].code).toBe(10014);
    expect((await call(fake(), "POST", inAccount(fake(), NAMESPACES), { json: {} })).body.errors[0].code).toBe(10019);
  });

  it("lists namespaces by page", async () => {
    for (let i = 0; i < 7; i++) await createNamespace(fake(), `ns-${i}`);
    const first = await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}?per_page=5&order=title&direction=desc`));
    expect(first.body.result.map((ns: { title: string }) => ns.title)).toEqual(["ns-6", "ns-5", "ns-4", "ns-3", "ns-2"]);
    expect(first.body.result_info).toEqual({ page: 1, per_page: 5, count: 5, total_count: 7, total_pages: 2 });
    expect((await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}?per_page=5&page=2`))).body.result).toHaveLength(2);
  });

  it("renames a namespace, refusing a title another one holds, and deletes it", async () => {
    const id = await createNamespace(fake(), "old");
    await createNamespace(fake(), "taken");
    expect((await call(fake(), "PUT", inAccount(fake(), `${NAMESPACES}/${id}`), { json: { title: "taken" } })).body.errors[0].code).toBe(10014);
    expect((await call(fake(), "PUT", inAccount(fake(), `${NAMESPACES}/${id}`), { json: { title: "new" } })).body.result.title).toBe("new");
    expect((await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}/${id}`))).body.result.title).toBe("new");
    expect((await call(fake(), "DELETE", inAccount(fake(), `${NAMESPACES}/${id}`))).body.success).toBe(true);
    const gone = await call(fake(), "DELETE", inAccount(fake(), `${NAMESPACES}/${id}`));
    expect(gone.status).toBe(404);
    expect(gone.body.errors[0].code).toBe(10013);
  });

  it("hides a just-created namespace from GETs for the scripted window", async () => {
    fake().notVisibleAfterCreate("kv_namespace", 60_000);
    const id = await createNamespace(fake(), "soon");
    expect((await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}/${id}`))).status).toBe(404);
  });
});

describe("the fake Cloudflare API: KV values and keys", () => {
  const fake = useFake();

  it("stores a raw value and reads it back raw, not in an envelope", async () => {
    const id = await createNamespace(fake(), "values");
    const put = await call(fake(), "PUT", inAccount(fake(), `${NAMESPACES}/${id}/values/greeting`), { body: "hello" });
    expect(put.body).toEqual({ success: true, errors: [], messages: [], result: null });
    const got = await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}/${id}/values/greeting`));
    expect(got.status).toBe(200);
    expect(got.body).toBe("hello");
    expect(got.headers.get("content-type")).toBe("application/octet-stream");
  });

  it("answers a missing key with 404 and code 10009 in an envelope, and deletes keys idempotently", async () => {
    const id = await createNamespace(fake(), "missing");
    const missing = await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}/${id}/values/nope`));
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0].code).toBe(10009);
    await call(fake(), "PUT", inAccount(fake(), `${NAMESPACES}/${id}/values/k`), { body: "v" });
    expect((await call(fake(), "DELETE", inAccount(fake(), `${NAMESPACES}/${id}/values/k`))).status).toBe(200);
    expect((await call(fake(), "DELETE", inAccount(fake(), `${NAMESPACES}/${id}/values/k`))).status).toBe(200);
    expect((await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}/${id}/values/k`))).status).toBe(404);
  });

  it("takes a key with an encoded slash as one key, and routes an unencoded one nowhere", async () => {
    const id = await createNamespace(fake(), "slashes");
    await call(fake(), "PUT", inAccount(fake(), `${NAMESPACES}/${id}/values/${encodeURIComponent("a/b")}`), { body: "x" });
    expect([...fake().state.kvNamespaces.get(id)!.values.keys()]).toEqual(["a/b"]);
    expect(fake().requests.at(-1)!.path).toBe(`/accounts/${fake().accountId}${NAMESPACES}/${id}/values/a%2Fb`);
    expect((await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}/${id}/values/a/b`))).body.errors[0].code).toBe(7003);
  });

  it("lists keys by prefix with an opaque cursor, empty on the last page", async () => {
    const id = await createNamespace(fake(), "keys");
    for (let i = 0; i < 15; i++) await call(fake(), "PUT", inAccount(fake(), `${NAMESPACES}/${id}/values/user:${String(i).padStart(2, "0")}`), { body: "x" });
    await call(fake(), "PUT", inAccount(fake(), `${NAMESPACES}/${id}/values/other`), { body: "x" });
    const first = await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}/${id}/keys?prefix=user:&limit=10`));
    expect(first.body.result).toHaveLength(10);
    expect(first.body.result[0]).toEqual({ name: "user:00" });
    expect(first.body.result_info.count).toBe(10);
    expect(first.body.result_info.cursor).not.toBe("");
    const second = await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}/${id}/keys?prefix=user:&limit=10&cursor=${first.body.result_info.cursor}`));
    expect(second.body.result.map((key: { name: string }) => key.name)).toEqual(["user:10", "user:11", "user:12", "user:13", "user:14"]);
    expect(second.body.result_info).toEqual({ count: 5, cursor: "" });
  });

  it("honours expiration_ttl, refusing one under 60 seconds", async () => {
    const id = await createNamespace(fake(), "ttl");
    expect((await call(fake(), "PUT", inAccount(fake(), `${NAMESPACES}/${id}/values/k?expiration_ttl=30`), { body: "v" })).status).toBe(400);
    await call(fake(), "PUT", inAccount(fake(), `${NAMESPACES}/${id}/values/k?expiration_ttl=120`), { body: "v" });
    const keys = await call(fake(), "GET", inAccount(fake(), `${NAMESPACES}/${id}/keys`));
    expect(keys.body.result[0].expiration).toBeGreaterThan(Date.now() / 1000 + 100);
  });
});
