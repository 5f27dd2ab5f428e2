import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { AlchemyError } from "../../../core/errors.js";
import { ProfileError } from "../../../core/profiles/profile-error.js";
import { CloudflareApi, type CloudflareApiOptions } from "./api-client.js";
import { CloudflareApiError } from "./api-error.js";
import { cloudflareCredentials } from "./credentials.js";
import { fail, fakeClock, ok, stubServer, type StubAnswer, type StubRequest, type StubServer } from "./stub-server.test-fixture.js";

const TOKEN = "CANARY-cf-token-5d1e";
const servers: StubServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(handler: (request: StubRequest, index: number) => StubAnswer | Promise<StubAnswer>, options: Partial<CloudflareApiOptions> & { accountId?: string } = {}) {
  const server = await stubServer(handler);
  servers.push(server);
  const credentials = cloudflareCredentials({ apiToken: TOKEN, baseUrl: server.baseUrl, ...(options.accountId ? { accountId: options.accountId } : {}) }, {}, "ci");
  const api = new CloudflareApi({ credentials, profile: "ci", clock: fakeClock(), ...options });
  return { server, api };
}

async function rejection(promise: Promise<unknown>): Promise<CloudflareApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CloudflareApiError);
  return error as CloudflareApiError;
}

describe("CloudflareApi.request", () => {
  it("returns the envelope's result, sending the token as a Bearer header and json as application/json", async () => {
    const { server, api } = await setup(() => ok({ uuid: "d1-123" }));
    const result = await api.request<{ uuid: string }>("post", "/accounts/abc/d1/database", { json: { name: "shop" }, query: { x: 1, skipped: undefined } });
    expect(result).toEqual({ uuid: "d1-123" });
    const [sent] = server.requests;
    expect(sent.method).toBe("POST");
    expect(sent.url).toBe("/client/v4/accounts/abc/d1/database?x=1");
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(sent.body.toString())).toEqual({ name: "shop" });
    expect(api.stats).toEqual({ requests: 1, retries: 0, waitedMs: 0 });
  });

  it("sends the global key as X-Auth-Email and X-Auth-Key", async () => {
    const server = await stubServer(() => ok(null));
    servers.push(server);
    const credentials = cloudflareCredentials({ apiKey: "CANARY-key", email: "me@example.com", baseUrl: server.baseUrl }, {}, "ci");
    await new CloudflareApi({ credentials, profile: "ci" }).request("GET", "/user");
    expect(server.requests[0].headers).toMatchObject({ "x-auth-email": "me@example.com", "x-auth-key": "CANARY-key" });
    expect(server.requests[0].headers.authorization).toBeUndefined();
  });

  it("treats success: false as a failure even with HTTP 200, naming the request and the envelope's errors", async () => {
    const { api } = await setup(() => ({ status: 200, json: { success: false, errors: [{ code: 7500, message: "Something broke" }], messages: [], result: null } }));
    const error = await rejection(api.request("GET", "/accounts/abc/d1/database"));
    expect(error).toMatchObject({ status: 200, codes: [7500], method: "GET", path: "/accounts/abc/d1/database", attempts: 1 });
    expect(error.errors).toEqual([{ code: 7500, message: "Something broke" }]);
    expect(error.message).toBe("Cloudflare rejected GET /accounts/abc/d1/database (200, code 7500: Something broke).");
    expect(error).toBeInstanceOf(AlchemyError);
  });

  it("names every code of a rejected request, so a handler can tell 'already exists' apart", async () => {
    const { api } = await setup(() => fail(400, [{ code: 10014, message: "A namespace with this account ID and title already exists" }]));
    const error = await rejection(api.request("POST", "/accounts/abc/storage/kv/namespaces", { json: { title: "t" } }));
    expect(error.status).toBe(400);
    expect(error.hasError(10014)).toBe(true);
    expect(error.hasError("already exists")).toBe(true);
    expect(error.message).toContain("(400, code 10014: A namespace with this account ID and title already exists)");
  });

  it("quotes a body that is not an envelope, and does not mistake it for success", async () => {
    const { api } = await setup(() => ({ status: 200, text: "<html>captive portal</html>" }));
    const error = await rejection(api.request("GET", "/accounts"));
    expect(error.message).toContain('with something that is not its JSON envelope: "<html>captive portal</html>"');
  });

  it("resolves null for a 404 with notFound: 'null', and throws a not-found error otherwise", async () => {
    const { api } = await setup(() => fail(404, [{ code: 10007, message: "workers.api.error.script_not_found" }]));
    await expect(api.request("GET", "/accounts/abc/workers/scripts/gone", { notFound: "null" })).resolves.toBeNull();
    const error = await rejection(api.request("DELETE", "/accounts/abc/workers/scripts/gone"));
    expect(error.notFound).toBe(true);
    expect(error.message).toBe(
      "Cloudflare has no DELETE /accounts/abc/workers/scripts/gone (404, code 10007: workers.api.error.script_not_found): it does not exist, or not in this account.",
    );
  });

  it("returns a 2xx body as bytes or text with raw, for KV values and R2 objects", async () => {
    const { api } = await setup(() => ({ body: Buffer.from([0, 1, 2, 255]), headers: { "content-type": "application/octet-stream" } }));
    expect(await api.request<Uint8Array>("GET", "/accounts/abc/storage/kv/namespaces/n/values/k", { raw: true })).toEqual(new Uint8Array([0, 1, 2, 255]));
    const text = await setup(() => ({ text: "héllo" }));
    expect(await text.api.request<string>("GET", "/accounts/abc/storage/kv/namespaces/n/values/k", { raw: "text" })).toBe("héllo");
  });

  it("sends FormData as multipart with fetch's boundary, dropping a content type of the caller's", async () => {
    const { server, api } = await setup(() => ok({ id: "api" }));
    const form = new FormData();
    form.set("metadata", new Blob([JSON.stringify({ main_module: "index.js" })], { type: "application/json" }));
    form.set("index.js", new Blob(["export default {}"], { type: "application/javascript+module" }), "index.js");
    await api.request("PUT", "/accounts/abc/workers/scripts/api", { body: form, headers: { "Content-Type": "application/json" } });
    const sent = server.requests[0];
    expect(sent.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent.body.toString()).toContain('name="metadata"');
    expect(sent.body.toString()).toContain("export default {}");
  });

  it("never lets a caller's headers replace the auth headers", async () => {
    const { server, api } = await setup(() => ok(null));
    await api.request("GET", "/user", { headers: { Authorization: "Bearer other", "cf-r2-jurisdiction": "eu" } });
    expect(server.requests[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(server.requests[0].headers["cf-r2-jurisdiction"]).toBe("eu");
  });
});

describe("CloudflareApi refusals", () => {
  it("says on a 403 which permission the token of which profile lacks, never showing the token", async () => {
    const { api } = await setup(() => fail(403, [{ code: 10000, message: `Authentication error for ${TOKEN}` }]));
    const error = await rejection(api.request("PUT", "/accounts/abc/workers/scripts/x", { body: "x" }));
    expect(error.message).toBe(
      `Cloudflare refused PUT /accounts/abc/workers/scripts/x (403, code 10000: Authentication error for ****): the API token of profile "ci" lacks a permission for it, ` +
        `or is not valid for account abc; give the token the "Workers Scripts Write" permission on that account (or use another profile).`,
    );
    expect(error).toMatchObject({ status: 403, codes: [10000], path: "/accounts/abc/workers/scripts/x" });
    expect(JSON.stringify(error.errors) + error.stack + String(error)).not.toContain(TOKEN);
  });

  it("shows no token when the client or its error is printed, serialised or logged", async () => {
    const { api } = await setup(() => fail(403, [{ code: 10000, message: "Authentication error" }]));
    const error = await rejection(api.request("GET", "/accounts/abc/queues"));
    for (const text of [inspect(api, { depth: 10, showHidden: true }), JSON.stringify(api), String(api.credentials), inspect(error, { depth: 10 }), JSON.stringify(error)]) {
      expect(text).not.toContain(TOKEN);
    }
  });

  it.each([
    ["GET", "/accounts/abc/d1/database", "D1 Read"],
    ["POST", "/accounts/abc/d1/database", "D1 Write"],
    ["PUT", "/accounts/abc/storage/kv/namespaces/n", "Workers KV Storage Write"],
    ["DELETE", "/accounts/abc/r2/buckets/b", "Workers R2 Storage Write"],
    ["POST", "/accounts/abc/queues", "Queues Write"],
  ])("names the permission %s %s needs: %s", async (method, path, permission) => {
    const { api } = await setup(() => fail(403, [{ code: 10000, message: "Authentication error" }]));
    expect((await rejection(api.request(method, path))).message).toContain(`give the token the "${permission}" permission`);
  });

  it("says on a 401 that the token was not accepted and how to set another", async () => {
    const { api } = await setup(() => fail(401, [{ code: 1000, message: "Invalid API Token" }]));
    const error = await rejection(api.request("GET", "/accounts/abc/queues"));
    expect(error.message).toContain('the API token of profile "ci" was not accepted: it may be expired, revoked or mistyped, or lack the "Queues Read" permission');
    expect(error.message).toContain("`alchemy profile set ci cloudflare.apiToken=-`");
    expect(error.message).not.toContain(TOKEN);
  });

  it("names CLOUDFLARE_API_TOKEN when the token came from the environment", async () => {
    const server = await stubServer(() => fail(403, [{ code: 10000, message: "Authentication error" }]));
    servers.push(server);
    const credentials = cloudflareCredentials(undefined, { CLOUDFLARE_API_TOKEN: TOKEN, CLOUDFLARE_BASE_URL: server.baseUrl }, "default");
    const error = await rejection(new CloudflareApi({ credentials, profile: "default" }).request("GET", "/accounts/abc/d1/database"));
    expect(error.message).toContain('the API token from CLOUDFLARE_API_TOKEN (profile "default" has no cloudflare settings) lacks a permission');
    expect(error.message).toContain("(or use another token)");
  });
});

describe("CloudflareApi.paginate", () => {
  it("follows result_info.page up to total_pages and returns every item", async () => {
    const { server, api } = await setup((request) => {
      const page = Number(new URL(request.url, "http://x").searchParams.get("page") ?? "1");
      return ok([`item-${page}a`, `item-${page}b`], { page, per_page: 2, total_pages: 3, count: 2, total_count: 6 });
    });
    expect(await api.paginate<string>("/accounts/abc/workers/scripts", { per_page: 2 })).toEqual(["item-1a", "item-1b", "item-2a", "item-2b", "item-3a", "item-3b"]);
    expect(server.requests.map((r) => r.url)).toEqual([
      "/client/v4/accounts/abc/workers/scripts?per_page=2",
      "/client/v4/accounts/abc/workers/scripts?per_page=2&page=2",
      "/client/v4/accounts/abc/workers/scripts?per_page=2&page=3",
    ]);
  });

  it("follows result_info.cursor until it comes back empty", async () => {
    const pages: Record<string, StubAnswer> = {
      "": ok([{ name: "a" }], { count: 1, cursor: "c1" }),
      c1: ok([{ name: "b" }], { count: 1, cursor: "c2" }),
      c2: ok([{ name: "c" }], { count: 1, cursor: "" }),
    };
    const { server, api } = await setup((request) => pages[new URL(request.url, "http://x").searchParams.get("cursor") ?? ""]);
    expect(await api.paginate("/accounts/abc/storage/kv/namespaces/n/keys")).toEqual([{ name: "a" }, { name: "b" }, { name: "c" }]);
    expect(server.requests).toHaveLength(3);
  });

  it("finds the list inside the result with the items option, and refuses a result that is not a list without it", async () => {
    const { api } = await setup(() => ok({ buckets: [{ name: "b1" }] }, { cursor: "" }));
    expect(await api.paginate("/accounts/abc/r2/buckets", {}, { items: (r) => (r as { buckets: unknown[] }).buckets })).toEqual([{ name: "b1" }]);
    await expect(api.paginate("/accounts/abc/r2/buckets")).rejects.toThrow('pass paginate\'s "items" option');
  });
});

describe("CloudflareApi.accountId", () => {
  it("uses the credentials' account without asking Cloudflare", async () => {
    const { server, api } = await setup(() => ok([]), { accountId: "from-profile" });
    expect(await api.accountId()).toBe("from-profile");
    expect(await api.accountPath("/d1/database")).toBe("/accounts/from-profile/d1/database");
    expect(server.requests).toHaveLength(0);
  });

  it("takes the first account GET /accounts lists, asking once", async () => {
    const { server, api } = await setup(() => ok([{ id: "first", name: "Mine" }, { id: "second" }]));
    expect(await Promise.all([api.accountId(), api.accountId()])).toEqual(["first", "first"]);
    expect(await api.accountId()).toBe("first");
    expect(server.requests.map((r) => r.url)).toEqual(["/client/v4/accounts?per_page=50"]);
  });

  it("fails naming the profile and the setting when the token sees no account", async () => {
    const { api } = await setup(() => ok([]));
    const error = await api.accountId().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProfileError);
    expect((error as Error).message).toContain('the API token of profile "ci" sees no Cloudflare account');
    expect((error as Error).message).toContain("alchemy profile set ci cloudflare.accountId=...");
  });
});

describe("CloudflareApi's destination", () => {
  it("sends nothing anywhere but the configured base URL", async () => {
    const elsewhere = await stubServer(() => ok("leaked"));
    servers.push(elsewhere);
    const { server, api } = await setup(() => ({ status: 302, headers: { location: `${elsewhere.origin}/steal` }, text: "" }));
    const urls: string[] = [];
    const recording = new CloudflareApi({
      credentials: api.credentials,
      clock: fakeClock(),
      fetch: (input, init) => (urls.push(String(input)), fetch(input, init)),
    });
    for (const path of [`${elsewhere.origin}/x`, `//127.0.0.1:${new URL(elsewhere.origin).port}/x`, "/../../x", "/%2e%2e/%2e%2e/x", "/..\\..\\x", "accounts"]) {
      await expect(recording.request("GET", path)).rejects.toThrow(`does not stay below ${server.baseUrl}`);
    }
    const redirected = await rejection(recording.request("GET", "/accounts"));
    expect(redirected.message).toContain("with a redirect (302), which the client does not follow");
    expect(elsewhere.requests).toHaveLength(0);
    expect(urls).toEqual([`${server.baseUrl}/accounts`]);
    expect(server.requests.map((r) => r.url)).toEqual(["/client/v4/accounts"]);
  });
});
