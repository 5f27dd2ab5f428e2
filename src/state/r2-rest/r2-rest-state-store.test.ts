import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ScopeError, StateStoreError } from "../../core/errors.js";
import { writeProfiles } from "../../core/profiles/profile-file.js";
import { ALL_PERMISSIONS, DEFAULT_TOKEN } from "../../providers/cloudflare/remote/fake/fake-cloudflare.test-fixture.js";
import { describeStateStore } from "../../testing/state-store-conformance.js";
import { R2RestStateStore, type R2RestStateStoreOptions } from "./r2-rest-state-store.js";
import { FAKE_LIMITS, fakeOptions, freshBucket, objectText, record, useFakeCloudflare } from "./r2-rest.test-fixture.js";

const SECRET = "r2-state-secret-token-5f0c1d";
const READ_ONLY = "r2-state-read-only-token-77ab";
const fake = useFakeCloudflare({
  tokens: {
    [DEFAULT_TOKEN]: { permissions: ALL_PERMISSIONS },
    [SECRET]: { permissions: ALL_PERMISSIONS },
    [READ_ONLY]: { permissions: ["Workers R2 Storage Read"] },
  },
});

describeStateStore("R2RestStateStore", async () => {
  const f = await fake();
  const options = fakeOptions(f, await freshBucket(f), { prefix: "alchemy/state" });
  return {
    factory: (scope) => new R2RestStateStore(scope, options),
    reopen: () => (scope) => new R2RestStateStore(scope, options),
  };
});

const STAGE = ["app", "dev"];

describe("R2RestStateStore", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ["ALCHEMY_HOME", "ALCHEMY_PROFILE", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_BASE_URL"]) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  const open = async (chain: readonly string[], extra = {}) => {
    const f = await fake();
    const bucket = await freshBucket(f);
    const store = new R2RestStateStore({ chain }, fakeOptions(f, bucket, extra));
    await store.init();
    return { f, bucket, store };
  };

  it("keeps one pretty-printed JSON object per record at <prefix>/<app>/<stage>/<nested...>/<id>.json", async () => {
    const { f, bucket } = await open(STAGE);
    const options = fakeOptions(f, bucket, { prefix: "/team/state/" });
    await new R2RestStateStore({ chain: STAGE }, options).set("api", record(STAGE, "api"));
    await new R2RestStateStore({ chain: [...STAGE, "backend", "inner"] }, options).set("db", record([...STAGE, "backend", "inner"], "db"));
    expect(objectText(f, bucket, "team/state/app/dev/api.json")).toBe(`${JSON.stringify(record(STAGE, "api"), null, 2)}\n`);
    expect(JSON.parse(objectText(f, bucket, "team/state/app/dev/backend/inner/db.json")!)).toEqual(record([...STAGE, "backend", "inner"], "db"));
  });

  it("does not list the records of nested scopes in the parent scope: list asks R2 for one level, with delimiter /", async () => {
    const { f, bucket, store } = await open(STAGE);
    const options = fakeOptions(f, bucket);
    const nested = new R2RestStateStore({ chain: [...STAGE, "backend"] }, options);
    const deeper = new R2RestStateStore({ chain: [...STAGE, "backend", "inner"] }, options);
    await store.set("api", record(STAGE, "api"));
    await nested.set("db", record([...STAGE, "backend"], "db"));
    await deeper.set("deep", record([...STAGE, "backend", "inner"], "deep"));
    f.requests.length = 0;
    expect(await store.list()).toEqual(["api"]);
    expect(Object.keys(await store.all())).toEqual(["api"]);
    expect(await store.count()).toBe(1);
    expect(await nested.list()).toEqual(["db"]);
    const listings = f.requests.filter((r) => r.method === "GET" && r.path.endsWith(`/r2/buckets/${bucket}/objects`));
    expect(listings.length).toBeGreaterThan(0);
    for (const listing of listings) expect(listing.query).toMatchObject({ delimiter: "/" });
  });

  it("keeps stage metadata and the lock as objects of their own, which no listing shows as a record or a stage", async () => {
    const { f, bucket, store } = await open(STAGE);
    await store.setStageMeta({ secrets: { salt: "c2FsdA==" } });
    const lock = await store.lock({ holder: { user: "t", host: os.hostname(), pid: process.pid, command: "test" }, leaseMs: 30_000, timeoutMs: 0 });
    await lock.release();
    expect(JSON.parse(objectText(f, bucket, "app/dev/~stage.json")!)).toEqual({ secrets: { salt: "c2FsdA==" } });
    expect(JSON.parse(objectText(f, bucket, "app/dev/~lock.json")!)).toEqual({ id: null, token: 1 });
    expect(await store.list()).toEqual([]);
    expect(await new R2RestStateStore({ chain: ["app"] }, fakeOptions(f, bucket)).listScopes()).toEqual([]);
  });

  it("reports a damaged record with a StateStoreError naming r2://bucket/key and the command that removes it", async () => {
    const { f, bucket, store } = await open(STAGE);
    await store.set("api", record(STAGE, "api"));
    await fetch(`${f.baseUrl}/accounts/${f.accountId}/r2/buckets/${bucket}/objects/app/dev/api.json`, {
      method: "PUT",
      headers: { authorization: `Bearer ${DEFAULT_TOKEN}` },
      body: "{ not json",
    });
    for (const read of [() => store.get("api"), () => store.all(), () => store.getBatch(["api"])]) {
      const error = await read().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).location).toBe(`r2://${bucket}/app/dev/api.json`);
      expect((error as Error).message).toMatch(/^The record r2:\/\/state-[\d-]+\/app\/dev\/api\.json is not valid JSON .* `alchemy state rm app\/dev\/api`/);
    }
  });

  it("names the bucket and key in its errors, and never the token", async () => {
    const f = await fake();
    const bucket = await freshBucket(f);
    const failures: unknown[] = [];
    const catchIt = (p: Promise<unknown>) => p.then(() => failures.push(new Error("resolved")), (e: unknown) => failures.push(e));
    const readOnly = new R2RestStateStore({ chain: STAGE }, fakeOptions(f, bucket, { apiToken: READ_ONLY }));
    await catchIt(readOnly.set("api", record(STAGE, "api"))); // 403
    const secret = new R2RestStateStore({ chain: STAGE }, fakeOptions(f, "no-such-bucket", { apiToken: SECRET }));
    await catchIt(secret.get("api")); // 404 bucket
    await catchIt(secret.set("api", record(STAGE, "api")));
    f.failNext({ method: "GET", path: /\/objects$/ }, { status: 500, times: 10, errors: [{ code: 10001, message: `echo ${SECRET}` }] });
    await catchIt(new R2RestStateStore({ chain: STAGE }, fakeOptions(f, bucket, { apiToken: SECRET })).list());
    const [refused, missingGet, missingSet, failed] = failures as StateStoreError[];
    expect(refused).toBeInstanceOf(StateStoreError);
    expect(refused!.location).toBe(`r2://${bucket}/app/dev/api.json`);
    expect(refused!.message).toMatch(new RegExp(`^Could not write record "api" at r2://${bucket}/app/dev/api\\.json: Cloudflare refused PUT`));
    expect(missingGet!.message).toContain(`Could not read record "api" at r2://no-such-bucket/app/dev/api.json`);
    expect(missingGet!.message).toContain(`Bucket "no-such-bucket" does not exist in this account`);
    expect(missingSet!.location).toBe("r2://no-such-bucket/app/dev/api.json");
    expect(failed!.message).toContain(`Could not list records at r2://${bucket}/app/dev/`);
    for (const error of failures) {
      expect(error).toBeInstanceOf(StateStoreError);
      for (const shown of [String(error), (error as Error).message, inspect(error, { depth: 10 }), JSON.stringify(error), String((error as Error).cause)]) {
        expect(shown).not.toContain(SECRET);
        expect(shown).not.toContain(READ_ONLY);
      }
    }
    expect(inspect(secret, { depth: 10 }) + JSON.stringify(secret)).not.toContain(SECRET);
  });

  it("takes credentials from the profile's cloudflare section, else from CLOUDFLARE_* variables", async () => {
    const f = await fake();
    const bucket = await freshBucket(f);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "r2-state-home-"));
    try {
      process.env.ALCHEMY_HOME = home;
      process.env.CLOUDFLARE_API_TOKEN = SECRET;
      process.env.CLOUDFLARE_ACCOUNT_ID = f.accountId;
      process.env.CLOUDFLARE_BASE_URL = f.baseUrl;
      const fromEnv = new R2RestStateStore({ chain: STAGE }, { bucket, requestLimits: FAKE_LIMITS });
      await fromEnv.set("api", record(STAGE, "api"));
      expect(await fromEnv.get("api")).toEqual(record(STAGE, "api"));

      writeProfiles(path.join(home, "profiles.json"), { profiles: { ci: { cloudflare: { apiToken: READ_ONLY, accountId: f.accountId, baseUrl: f.baseUrl } } } });
      const fromProfile = new R2RestStateStore({ chain: STAGE }, { bucket, profile: "ci", requestLimits: FAKE_LIMITS });
      expect(await fromProfile.get("api")).toEqual(record(STAGE, "api"));
      await expect(fromProfile.set("web", record(STAGE, "web"))).rejects.toThrow(/Cloudflare refused PUT/); // the profile's read-only token, not the environment's

      delete process.env.CLOUDFLARE_API_TOKEN;
      const none = new R2RestStateStore({ chain: STAGE }, { bucket, profile: "nobody" });
      await expect(none.init()).rejects.toThrow(/Profile "nobody" has no cloudflare settings and the environment has no CLOUDFLARE_API_TOKEN/);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("checks its options and names before any request", async () => {
    expect(() => new R2RestStateStore({ chain: STAGE }, { bucket: "Bad_Bucket" })).toThrow(/"Bad_Bucket" is not an R2 bucket name/);
    expect(() => new R2RestStateStore({ chain: STAGE }, { bucket: "state", baseUrl: "http://127.0.0.1:1/client/v4" })).toThrow(/baseUrl without an apiToken/);
    const seedStyle = { bucket: "state", accessKeyId: "AKIA-not-used", secretAccessKey: "never-shown" } as unknown as R2RestStateStoreOptions;
    expect(() => new R2RestStateStore({ chain: STAGE }, seedStyle)).toThrow(/got accessKeyId and secretAccessKey, which it does not use: it authenticates with a Cloudflare API token/);
    expect(() => new R2RestStateStore({ chain: STAGE }, { bucket: "state", prefix: "a//b" })).toThrow(/prefix "a\/\/b" .* segment ""/);
    expect(() => new R2RestStateStore({ chain: ["app", "a:b"] }, { bucket: "state" })).toThrow(ScopeError);
    const { f, store } = await open(["app"]);
    const before = f.requests.length;
    await expect(store.set("api", record(["app"], "api"))).rejects.toThrow(/records live in a stage or a scope below it/);
    await expect(store.getStageMeta()).rejects.toThrow(/stage metadata belongs to the store of a stage scope/);
    expect(f.requests.length).toBe(before);
  });
});
