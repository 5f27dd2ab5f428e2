import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { fakeOptions, freshBucket, record, useFakeCloudflare } from "../r2-rest/r2-rest.test-fixture.js";
import { R2RestStateStore } from "../r2-rest/r2-rest-state-store.js";
import { EMULATOR_CREDENTIALS, useS3Emulator, type S3Emulator } from "../s3/s3-emulator.test-fixture.js";
import { S3StateStore } from "../s3/s3-state-store.js";
import { RecordCache } from "./record-cache.js";

const emulator = useS3Emulator(["state"]);
const fakeCloudflare = useFakeCloudflare();
const STAGE = ["app", "dev"];
const saved = { cache: process.env.ALCHEMY_CACHE, dir: process.env.ALCHEMY_CACHE_DIR };
afterEach(() => {
  for (const [name, value] of [["ALCHEMY_CACHE", saved.cache], ["ALCHEMY_CACHE_DIR", saved.dir]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** Requests the emulator received since the last call. */
const requests = async (s3: S3Emulator): Promise<Record<string, number>> => (await fetch(`${s3.endpoint}/__stats`)).json() as Promise<Record<string, number>>;

/**
 * A prefix holding `n` records, written by one store; the stores of `open()`
 * are made afresh, as another run's would be. Each setup has its own cache
 * directory and its own credentials, hence its own connection and cache.
 */
async function setup(n: number) {
  const s3 = await emulator();
  process.env.ALCHEMY_CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-cache-test-"));
  const prefix = `cache-${randomUUID()}`;
  const credentials = { ...EMULATOR_CREDENTIALS, sessionToken: randomUUID() };
  const open = () => new S3StateStore({ chain: STAGE }, s3.options("state", { prefix, credentials }));
  const writer = open();
  await Promise.all(Array.from({ length: n }, (_, i) => writer.set(`r${i}`, record(STAGE, `r${i}`))));
  await requests(s3);
  return { s3, prefix, open };
}

describe("the record cache of the stores in a bucket", () => {
  it("reads a scope whose records did not change with its listing alone, and one changed behind its back with one GET", async () => {
    const { s3, prefix, open } = await setup(50);
    const all = await open().all();
    expect(Object.keys(all)).toHaveLength(50);
    expect(await requests(s3)).toEqual({ LIST: 1 });
    const changed = { ...record(STAGE, "r7"), props: { name: "edited by hand" } };
    const client = new S3Client({ endpoint: s3.endpoint, region: "us-east-1", forcePathStyle: true, credentials: EMULATOR_CREDENTIALS });
    await client.send(new PutObjectCommand({ Bucket: "state", Key: `${prefix}/app/dev/r7.json`, Body: JSON.stringify(changed) }));
    await requests(s3);
    const again = await open().all();
    expect(again.r7!.props).toEqual({ name: "edited by hand" });
    expect(await requests(s3)).toEqual({ LIST: 1, GET: 1 });
  });

  it("never trusts an entry whose text does not match the listing's ETag: a planted or damaged entry costs a GET, not a wrong record", async () => {
    const { s3, open } = await setup(3);
    await open().all(); // a read of each key waits for the cache writes of that key still in flight
    await requests(s3);
    for (const file of fs.readdirSync(process.env.ALCHEMY_CACHE_DIR!, { recursive: true }) as string[]) {
      const at = path.join(process.env.ALCHEMY_CACHE_DIR!, file);
      if (fs.statSync(at).isFile()) fs.writeFileSync(at, JSON.stringify({ ...record(STAGE, "r0"), props: { name: "planted" } }));
    }
    const all = await open().all();
    expect(Object.values(all).map((state) => state.props)).toEqual([{ name: "r0" }, { name: "r1" }, { name: "r2" }]);
    expect(await requests(s3)).toEqual({ LIST: 1, GET: 3 });
  });

  it("is off with ALCHEMY_CACHE=off, and not used in a directory other users may write", async () => {
    process.env.ALCHEMY_CACHE = "off";
    const { s3, open } = await setup(4);
    await open().all();
    expect(await requests(s3)).toEqual({ LIST: 1, GET: 4 });
    delete process.env.ALCHEMY_CACHE;
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-cache-shared-"));
    try {
      fs.chmodSync(shared, 0o777);
      expect(RecordCache.open("some bucket", { ALCHEMY_CACHE_DIR: shared })).toBeDefined(); // its own subdirectories are 0700
      fs.mkdirSync(path.join(shared, "objects"), { recursive: true });
      fs.chmodSync(path.join(shared, "objects"), 0o777);
      expect(RecordCache.open("another bucket", { ALCHEMY_CACHE_DIR: shared })).toBeUndefined();
    } finally {
      fs.rmSync(shared, { recursive: true, force: true });
    }
  });

  it("serves the R2 REST store too, from the ETags of Cloudflare's listing", async () => {
    process.env.ALCHEMY_CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-cache-test-"));
    const f = await fakeCloudflare();
    const options = fakeOptions(f, await freshBucket(f));
    const writer = new R2RestStateStore({ chain: STAGE }, options);
    await Promise.all(Array.from({ length: 10 }, (_, i) => writer.set(`r${i}`, record(STAGE, `r${i}`))));
    f.requests.length = 0;
    expect(Object.keys(await new R2RestStateStore({ chain: STAGE }, options).all())).toHaveLength(10);
    const objectReads = f.requests.filter((r) => r.method === "GET" && /\/objects\/.+/.test(r.path));
    expect(objectReads.map((r) => r.path)).toEqual([]);
  });
});
