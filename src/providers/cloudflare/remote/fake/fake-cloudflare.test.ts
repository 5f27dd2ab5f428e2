import { describe, expect, it } from "vitest";
import { call, inAccount, useFake } from "./fake-client.test-fixture.js";
import { REDACTED, startFakeCloudflare } from "./fake-cloudflare.test-fixture.js";

const OTHER_ACCOUNT = { id: "11112222333344445555666677778888", name: "Other Account" };
const THIRD_ACCOUNT = { id: "99990000aaaabbbbccccddddeeeeffff", name: "Third" };

describe("the fake Cloudflare API: credentials", () => {
  const fake = useFake({
    accounts: [{ id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", name: "Main Account" }, OTHER_ACCOUNT],
    tokens: {
      "test-token": { permissions: ["Account Settings Read", "D1 Write", "Workers Scripts Read"] },
      "d1-reader": { permissions: ["D1 Read"] },
      "main-only": { permissions: ["Account Settings Read", "D1 Write"], accounts: ["0f1e2d3c4b5a69788796a5b4c3d2e1f0"] },
    },
  });

  it("answers 401 with code 10000 in the envelope without credentials or with an unknown token", async () => {
    for (const token of [null, "nope"]) {
      const res = await call(fake(), "GET", inAccount(fake(), "/d1/database"), { token });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ success: false, errors: [{ code: 10000, message: "Authentication error" }], messages: [], result: null });
    }
  });

  it("accepts the legacy X-Auth-Email + X-Auth-Key pair, the key being a known secret", async () => {
    const headers = { "x-auth-email": "me@example.com", "x-auth-key": "test-token" };
    expect((await call(fake(), "GET", inAccount(fake(), "/d1/database"), { token: null, headers })).status).toBe(200);
    const noEmail = await call(fake(), "GET", inAccount(fake(), "/d1/database"), { token: null, headers: { "x-auth-key": "test-token" } });
    expect(noEmail.status).toBe(401);
  });

  it("answers 403 with code 10000 naming the permission a token lacks; a Write grants the matching Read", async () => {
    const write = await call(fake(), "POST", inAccount(fake(), "/d1/database"), { token: "d1-reader", json: { name: "x" } });
    expect(write.status).toBe(403);
    expect(write.body.errors[0].code).toBe(10000);
    expect(write.body.errors[0].message).toContain('"D1 Write"');
    expect((await call(fake(), "GET", inAccount(fake(), "/d1/database"), { token: "d1-reader" })).status).toBe(200);
    expect((await call(fake(), "GET", inAccount(fake(), "/d1/database"))).status).toBe(200); // test-token holds D1 Write only
    const kv = await call(fake(), "GET", inAccount(fake(), "/storage/kv/namespaces"));
    expect(kv.body.errors[0].message).toContain('"Workers KV Storage Read"');
  });

  it("refuses an account the token may not use (403, code 9109) and lists only the token's accounts", async () => {
    const res = await call(fake(), "GET", `/accounts/${OTHER_ACCOUNT.id}/d1/database`, { token: "main-only" });
    expect(res.status).toBe(403);
    expect(res.body.errors[0].code).toBe(9109);
    expect((await call(fake(), "GET", "/accounts/00000000000000000000000000000000/d1/database")).status).toBe(403);
    const listed = await call(fake(), "GET", "/accounts", { token: "main-only" });
    expect(listed.body.result.map((account: { name: string }) => account.name)).toEqual(["Main Account"]);
  });
});

describe("the fake Cloudflare API: envelope, routing and headers", () => {
  const fake = useFake({ accounts: [{ id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", name: "Acme Corp" }, OTHER_ACCOUNT, THIRD_ACCOUNT] });

  it("pages GET /accounts with page/per_page and result_info", async () => {
    const first = await call(fake(), "GET", "/accounts?per_page=5");
    expect(first.body.success).toBe(true);
    expect(first.body.result_info).toEqual({ page: 1, per_page: 5, count: 3, total_count: 3, total_pages: 1 });
    const res = await call(fake(), "GET", "/accounts?page=2&per_page=5");
    expect(res.body.result).toEqual([]);
    expect(res.body.result_info).toMatchObject({ page: 2, count: 0, total_count: 3 });
  });

  it("answers the account's workers.dev subdomain, made from its name", async () => {
    const res = await call(fake(), "GET", inAccount(fake(), "/workers/subdomain"));
    expect(res.body).toEqual({ success: true, errors: [], messages: [], result: { subdomain: "acme-corp" } });
  });

  it("answers 404 with code 7003 for an unknown path and 405 with code 7001 for a known path's other method", async () => {
    const unknown = await call(fake(), "GET", inAccount(fake(), "/nothing/here"));
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]).toEqual({ code: 7003, message: expect.stringMatching(/^Could not route to \/client\/v4\/accounts\/.*\/nothing\/here/) });
    const wrongMethod = await call(fake(), "PATCH", inAccount(fake(), "/d1/database"));
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.errors[0].code).toBe(7001);
  });

  it("answers malformed JSON with 400 and code 6007", async () => {
    const res = await call(fake(), "POST", inAccount(fake(), "/d1/database"), { body: "{not json", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].code).toBe(6007);
  });

  it("sends Ratelimit headers counting down the credential's 1,200 requests in 300 s", async () => {
    const first = await call(fake(), "GET", "/accounts");
    const second = await call(fake(), "GET", "/accounts");
    expect(first.headers.get("ratelimit-policy")).toBe('"default";q=1200;w=300');
    const remaining = (res: typeof first) => Number(/r=(\d+)/.exec(res.headers.get("ratelimit") ?? "")?.[1]);
    expect(remaining(second)).toBe(remaining(first) - 1);
  });
});

describe("the fake Cloudflare API: scripted failures and the request log", () => {
  const fake = useFake();

  it("answers a scripted 429 with retry-after, then serves the retry", async () => {
    fake().failNext({ method: "POST", path: /\/d1\/database$/ }, { status: 429, retryAfter: 2 });
    const limited = await call(fake(), "POST", inAccount(fake(), "/d1/database"), { json: { name: "db" } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(limited.body.errors[0].code).toBe(971);
    expect(fake().state.d1Databases.size).toBe(0);
    const retried = await call(fake(), "POST", inAccount(fake(), "/d1/database"), { json: { name: "db" } });
    expect(retried.status).toBe(200);
  });

  it("fails `times` matching requests only, and only for the scripted method", async () => {
    fake().failNext({ method: "GET", path: /\/d1\/database/ }, { status: 503, times: 2, errors: [{ code: 1234, message: "down" }] });
    expect((await call(fake(), "POST", inAccount(fake(), "/d1/database"), { json: { name: "a" } })).status).toBe(200);
    const failed = await call(fake(), "GET", inAccount(fake(), "/d1/database"));
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBeNull();
    expect(failed.body.errors).toEqual([{ code: 1234, message: "down" }]);
    expect((await call(fake(), "GET", inAccount(fake(), "/d1/database"))).status).toBe(503);
    expect((await call(fake(), "GET", inAccount(fake(), "/d1/database"))).status).toBe(200);
  });

  it("can lose the response after doing the work, so a retried create finds the database already there", async () => {
    fake().failNext({ path: /\/d1\/database$/ }, { status: 502, afterApplying: true });
    expect((await call(fake(), "POST", inAccount(fake(), "/d1/database"), { json: { name: "db" } })).status).toBe(502);
    const retried = await call(fake(), "POST", inAccount(fake(), "/d1/database"), { json: { name: "db" } });
    expect(retried.status).toBe(400);
    expect(retried.body.errors[0].message).toContain("already exists");
  });

  it("logs method, path, query, headers with secrets redacted, body and status", async () => {
    await call(fake(), "POST", inAccount(fake(), "/d1/database?x=1"), { json: { name: "logged" } });
    await call(fake(), "GET", "/accounts", { token: null, headers: { "x-auth-email": "a@b.c", "x-auth-key": "test-token" } });
    const [post, get] = fake().requests;
    expect(post).toMatchObject({ method: "POST", path: `/accounts/${fake().accountId}/d1/database`, query: { x: "1" }, body: { name: "logged" }, status: 200 });
    expect(post!.headers.authorization).toBe(REDACTED);
    expect(get!.headers["x-auth-key"]).toBe(REDACTED);
    expect(get!.headers["x-auth-email"]).toBe("a@b.c");
    expect(JSON.stringify(fake().requests)).not.toContain("test-token");
  });

  it("forgets resources, the log and scripts on reset", async () => {
    await call(fake(), "POST", inAccount(fake(), "/d1/database"), { json: { name: "gone" } });
    fake().failNext({ path: /.*/ }, { status: 500 });
    fake().reset();
    expect(fake().state.d1Databases.size).toBe(0);
    expect(fake().requests).toEqual([]);
    expect((await call(fake(), "GET", "/accounts")).status).toBe(200);
  });
});

describe("startFakeCloudflare", () => {
  it("listens on the loopback interface and stops on close", async () => {
    const fake = await startFakeCloudflare();
    expect(fake.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/client\/v4$/);
    await fake.close();
    await expect(fetch(`${fake.baseUrl}/accounts`)).rejects.toThrow();
  });
});
