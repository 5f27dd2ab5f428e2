import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import alchemy from "alchemy";
import { KVNamespace, Worker } from "alchemy/cloudflare";
import { brandOutput } from "../../core/output.js";
import { Secret } from "../../core/secrets/secret.js";
import { memoryState } from "../../core/world.test-fixture.js";
import { workerBindings } from "./bindings.js";

const ref = (kind: string) => ({ fqn: `app/dev/${kind}`, kind: `cloudflare::${kind}`, id: kind });

describe("a Worker's bindings", () => {
  it("become the upload API's binding shapes: text, secret, JSON, and each resource kind by its output, a bucket with its jurisdiction when it has one", () => {
    const bindings = workerBindings(
      {
        GREETING: "hello",
        TOKEN: new Secret("s3cret"),
        LIMITS: { pageSize: 20 },
        DEBUG: false,
        DB: brandOutput({ name: "db", id: "uuid-1", backend: "local" }, ref("D1Database")),
        CACHE: brandOutput({ id: "kv-1", title: "t", backend: "local" }, ref("KVNamespace")),
        ASSETS: brandOutput({ name: "bucket", backend: "local" }, ref("R2Bucket")),
        EU_FILES: brandOutput({ name: "eu-bucket", jurisdiction: "eu", backend: "remote" }, ref("R2Bucket")),
        DEFAULT_FILES: brandOutput({ name: "plain-bucket", jurisdiction: "default", backend: "remote" }, ref("R2Bucket")),
        JOBS: brandOutput({ name: "queue", id: "q-1", backend: "local" }, ref("Queue")),
        AUTH: brandOutput({ name: "auth-worker", backend: "local" }, ref("Worker")),
      },
      "app/dev/api",
      "create",
    );
    expect(bindings).toEqual([
      { type: "r2_bucket", name: "ASSETS", bucket_name: "bucket" },
      { type: "service", name: "AUTH", service: "auth-worker" },
      { type: "kv_namespace", name: "CACHE", namespace_id: "kv-1" },
      { type: "d1", name: "DB", id: "uuid-1" },
      { type: "json", name: "DEBUG", json: false },
      { type: "r2_bucket", name: "DEFAULT_FILES", bucket_name: "plain-bucket" },
      { type: "r2_bucket", name: "EU_FILES", bucket_name: "eu-bucket", jurisdiction: "eu" },
      { type: "plain_text", name: "GREETING", text: "hello" },
      { type: "queue", name: "JOBS", queue_name: "queue" },
      { type: "json", name: "LIMITS", json: { pageSize: 20 } },
      { type: "secret_text", name: "TOKEN", text: "s3cret" },
    ]);
  });

  it("refuse a name that is not an identifier, a resource a Worker cannot bind, and a function, naming the Worker", () => {
    expect(() => workerBindings({ "MY-VAR": "x" }, "app/dev/api", "create")).toThrow(/Worker app\/dev\/api: binding name "MY-VAR" is not a JavaScript identifier/);
    const folder = brandOutput<object>({ path: "/tmp/x" }, { fqn: "app/dev/out", kind: "fs::Folder", id: "out" });
    expect(() => workerBindings({ OUT: folder }, "app/dev/api", "create")).toThrow(/binding OUT is the output of a fs::Folder, which a Worker cannot bind/);
    expect(() => workerBindings({ F: (() => 1) as unknown as string }, "app/dev/api", "create")).toThrow(/binding F is a function/);
  });
});

describe("Cloudflare resources in a remote run without credentials", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "alchemy-cf-remote-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("stop with an error naming the profile, how to give it credentials, and how to run locally instead", async () => {
    for (const name of ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_ACCOUNT_ID"]) delete process.env[name];
    process.env.ALCHEMY_HOME = dir; // no profiles file
    const state = memoryState();
    const app = await alchemy("app", { ...state.options(), rootDir: dir, local: false });
    await expect(KVNamespace("cache")).rejects.toThrow(/app\/test\/cache: .*[Pp]rofile "default".*alchemy profile set default cloudflare\.apiToken.*CLOUDFLARE_API_TOKEN.*Or run locally on Miniflare: alchemy dev, alchemy deploy --local/s);
    await expect(Worker("api")).rejects.toThrow(/Or run locally on Miniflare/);
    await app.release();
  });
});
