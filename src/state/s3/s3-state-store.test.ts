import { randomUUID } from "node:crypto";
import os from "node:os";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { describeStageLock } from "../../testing/stage-lock-conformance.js";
import { describeStateStore } from "../../testing/state-store-conformance.js";
import { LockLostError, type LockHolder } from "../stage-lock.js";
import { record } from "../r2-rest/r2-rest.test-fixture.js";
import { EMULATOR_CREDENTIALS, startS3Emulator, useS3Emulator, type S3Emulator } from "./s3-emulator.test-fixture.js";
import { S3StateStore } from "./s3-state-store.js";

const emulator = useS3Emulator(["state"]);
const STAGE = ["app", "dev"];
const holder = (command: string): LockHolder => ({ user: "tester", host: os.hostname(), pid: process.pid, command });
const request = (command: string, leaseMs = 30_000) => ({ holder: holder(command), leaseMs, timeoutMs: 0 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stores on `emulator` as one process sees them: each call gives its own
 * connection (its own session token, which the emulator ignores), so its own
 * fences, as a separate process would have.
 */
const processOn = (s3: S3Emulator, prefix: string) => {
  const credentials = { ...EMULATOR_CREDENTIALS, sessionToken: randomUUID() };
  return (chain: readonly string[]) => new S3StateStore({ chain }, s3.options("state", { prefix, credentials }));
};

const client = (s3: S3Emulator) => new S3Client({ endpoint: s3.endpoint, region: "us-east-1", forcePathStyle: true, credentials: EMULATOR_CREDENTIALS });
const objectText = async (s3: S3Emulator, key: string) => {
  try {
    return await (await client(s3).send(new GetObjectCommand({ Bucket: "state", Key: key }))).Body!.transformToString();
  } catch {
    return undefined;
  }
};

describeStateStore("S3StateStore", async () => {
  const s3 = await emulator();
  const options = s3.options("state", { prefix: `conformance-${randomUUID()}` });
  return { factory: (scope) => new S3StateStore(scope, options), reopen: () => (scope) => new S3StateStore(scope, options) };
  // s3rver writes three files per object: 10,000 records took 27 s on a quiet machine and over 180 s on a loaded one.
  // Paging past one listing is tested below with 1,050 records; 3,000 take three listings.
}, { manyRecords: 3_000 });

describeStageLock("S3StateStore", async () => {
  const s3 = await emulator();
  const prefix = `locks-${randomUUID()}`;
  const factory = () => {
    const stores = processOn(s3, prefix);
    return (scope: { chain: readonly string[] }) => stores(scope.chain);
  };
  return { factory: factory(), reopen: factory, fencesPerFactory: true };
});

describe("S3StateStore", () => {
  it("keeps one JSON object per record at <prefix>/<app>/<stage>/<nested...>/<id>.json, and lists one scope with delimiter /", async () => {
    const s3 = await emulator();
    const prefix = `layout-${randomUUID()}`;
    const store = processOn(s3, prefix);
    await store(STAGE).set("api", record(STAGE, "api"));
    await store([...STAGE, "backend"]).set("db", record([...STAGE, "backend"], "db"));
    await store([...STAGE, "backend", "inner"]).set("deep", record([...STAGE, "backend", "inner"], "deep"));
    expect(JSON.parse((await objectText(s3, `${prefix}/app/dev/api.json`))!)).toEqual(record(STAGE, "api"));
    expect(JSON.parse((await objectText(s3, `${prefix}/app/dev/backend/inner/deep.json`))!)).toEqual(record([...STAGE, "backend", "inner"], "deep"));
    expect(await store(STAGE).list()).toEqual(["api"]);
    expect(await store(STAGE).listScopes()).toEqual(["backend"]);
    expect(Object.keys(await store([...STAGE, "backend"]).all())).toEqual(["db"]);
    expect(await store(["app"]).listScopes()).toEqual(["dev"]);
  });

  it("pages through a scope of more records than one listing holds", async () => {
    const s3 = await emulator();
    const store = processOn(s3, `pages-${randomUUID()}`)(STAGE);
    const ids = Array.from({ length: 1_050 }, (_, i) => `r${String(i).padStart(4, "0")}`);
    for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => store.set(id, record(STAGE, id))));
    expect((await store.list()).sort()).toEqual(ids);
    expect(await store.count()).toBe(1_050);
  }, 120_000);

  it("reports a damaged record naming s3://bucket/key and the command that removes it from state", async () => {
    const s3 = await emulator();
    const prefix = `damaged-${randomUUID()}`;
    const store = processOn(s3, prefix)(STAGE);
    await client(s3).send(new PutObjectCommand({ Bucket: "state", Key: `${prefix}/app/dev/api.json`, Body: "{ not json" }));
    const error = await store.get("api").then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).location).toBe(`s3://state/${prefix}/app/dev/api.json`);
    expect((error as Error).message).toMatch(/is not valid JSON .* `alchemy state rm app\/dev\/api`/);
  });

  it("names a missing bucket and the command that creates it, and never shows the secret key", async () => {
    const s3 = await emulator();
    const secret = "s3-secret-never-shown-7f1";
    const store = new S3StateStore({ chain: STAGE }, s3.options("no-such-bucket", { credentials: { accessKeyId: "S3RVER", secretAccessKey: secret } }));
    const error = await store.set("api", record(STAGE, "api")).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toContain(`Could not write record "api" at s3://no-such-bucket/app/dev/api.json`);
    expect(String(error) + JSON.stringify(error)).not.toContain(secret);
  });

  it("checks its options before any request", () => {
    expect(() => new S3StateStore({ chain: STAGE }, { bucket: "Bad_Bucket" })).toThrow(/"Bad_Bucket" is not a bucket name/);
    expect(() => new S3StateStore({ chain: STAGE }, { bucket: "state", endpoint: "ftp://x" })).toThrow(/must be an http\(s\) URL/);
    expect(() => new S3StateStore({ chain: STAGE }, { bucket: "state", prefix: "a//b" })).toThrow(/segment ""/);
  });

  it("fences the old holder's writes after a takeover past its lease, and keeps the new holder's", async () => {
    const s3 = await emulator();
    const prefix = `fence-${randomUUID()}`;
    const [mine, theirs] = [processOn(s3, prefix), processOn(s3, prefix)];
    const old = await mine(STAGE).lock(request("stalled", 300));
    await sleep(450);
    const taken = await theirs(STAGE).lock(request("next"));
    await theirs(STAGE).set("api", record(STAGE, "api", { props: { seq: 2 } }));
    const results = await Promise.allSettled([mine(STAGE).set("api", record(STAGE, "api", { props: { seq: 99 } })), mine([...STAGE, "backend"]).set("db", record([...STAGE, "backend"], "db"))]);
    for (const result of results) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(LockLostError);
    expect((await theirs(STAGE).get("api"))?.props).toEqual({ seq: 2 });
    expect(await theirs([...STAGE, "backend"]).list()).toEqual([]);
    await old.release();
    expect((await theirs(STAGE).lockInfo())?.id).toBe(taken.info.id);
    await taken.release();
  });

  it("catches a takeover the lease cannot explain (unlock, then another run's lock) by reading the lock object before a write", async () => {
    const s3 = await emulator();
    const prefix = `unlock-${randomUUID()}`;
    const [mine, theirs] = [processOn(s3, prefix), processOn(s3, prefix)];
    const old = await mine(STAGE).lock(request("mine"));
    expect(await theirs(STAGE).forceUnlock(old.info.id)).toBe(true);
    const taken = await theirs(STAGE).lock(request("thief"));
    expect(taken.info.token).toBe(2);
    const error = await mine(STAGE).set("api", record(STAGE, "api")).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect(await objectText(s3, `${prefix}/app/dev/api.json`)).toBeUndefined();
    await taken.release();
  });
});

describe("S3StateStore on an endpoint without conditional writes", () => {
  it("refuses to lock, found by a probe whose second create-only PUT must fail with 412, and cleans the probe up", async () => {
    const s3 = await startS3Emulator(["state"], { ignoreConditions: true });
    try {
      const store = new S3StateStore({ chain: STAGE }, s3.options("state", { prefix: "p" }));
      const error = await store.lock(request("one")).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as Error).message).toMatch(
        /^Refusing to lock stage "dev" in s3:\/\/state\/p\/app\/dev\/: the endpoint http:\/\/127\.0\.0\.1:\d+ does not honour conditional PUTs \(a second If-None-Match: \* PUT of the same key succeeded; an If-Match PUT with a wrong ETag succeeded\)/,
      );
      expect(await store.list()).toEqual([]);
      expect(await store.lockInfo()).toBeUndefined();
      // State itself still works there, for runs without locking.
      await store.set("api", record(STAGE, "api"));
      expect(await store.list()).toEqual(["api"]);
    } finally {
      await s3.stop();
    }
  });
});
