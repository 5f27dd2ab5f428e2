import { describe, expect, it } from "vitest";
import { call, inAccount, useFake, type CallResult } from "./fake-client.test-fixture.js";
import type { FakeCloudflare } from "./fake-cloudflare.test-fixture.js";

const ESM = "application/javascript+module";

/** A Worker upload: `metadata` as a JSON file part, then one file part per module. */
function upload(metadata: Record<string, unknown>, modules: Record<string, [string | Uint8Array, string]> = { "index.js": ["export default {}", ESM] }): FormData {
  const form = new FormData();
  form.set("metadata", new Blob([JSON.stringify(metadata)], { type: "application/json" }), "metadata.json");
  for (const [name, [content, type]] of Object.entries(modules)) form.set(name, new Blob([content], { type }), name);
  return form;
}

function putScript(fake: FakeCloudflare, name: string, body: FormData | string, headers?: Record<string, string>): Promise<CallResult> {
  return call(fake, "PUT", inAccount(fake, `/workers/scripts/${name}`), { body, headers });
}

const simple = { main_module: "index.js", compatibility_date: "2026-04-01" };

describe("the fake Cloudflare API: Worker uploads", () => {
  const fake = useFake();

  it("parses a multipart upload of two modules and every modelled binding type, and stores it", async () => {
    const f = fake();
    const kv = (await call(f, "POST", inAccount(f, "/storage/kv/namespaces"), { json: { title: "cache" } })).body.result.id;
    const d1 = (await call(f, "POST", inAccount(f, "/d1/database"), { json: { name: "main-db" } })).body.result.uuid;
    await call(f, "POST", inAccount(f, "/r2/buckets"), { json: { name: "assets-bucket" } });
    await call(f, "POST", inAccount(f, "/queues"), { json: { queue_name: "jobs" } });
    expect((await putScript(f, "other", upload(simple))).status).toBe(200);
    const bindings = [
      { type: "plain_text", name: "GREETING", text: "hi" },
      { type: "secret_text", name: "API_KEY", text: "s3cret" },
      { type: "json", name: "CONFIG", json: { a: 1 } },
      { type: "kv_namespace", name: "KV", namespace_id: kv },
      { type: "d1", name: "DB", id: d1 },
      { type: "r2_bucket", name: "BUCKET", bucket_name: "assets-bucket" },
      { type: "queue", name: "JOBS", queue_name: "jobs" },
      { type: "service", name: "OTHER", service: "other" },
      { type: "durable_object_namespace", name: "COUNTER", class_name: "Counter" },
      { type: "version_metadata", name: "VERSION" },
      { type: "analytics_engine", name: "EVENTS", dataset: "events" },
      { type: "ai", name: "AI" },
    ];
    const metadata = { main_module: "index.js", compatibility_date: "2026-04-01", compatibility_flags: ["nodejs_compat"], bindings };
    const wasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    const res = await putScript(
      f,
      "api",
      upload(metadata, {
        "index.js": ['import { x } from "./lib.js"; export default { fetch() { return new Response(x); } };', ESM],
        "lib.js": ['export const x = "lib";', ESM],
        "data.txt": ["plain", "text/plain"],
        "add.wasm": [wasm, "application/wasm"],
        "index.js.map": ["{}", "application/source-map"],
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ id: "api", compatibility_date: "2026-04-01", compatibility_flags: ["nodejs_compat"], has_modules: true });

    const parts = f.requests.at(-1)!.parts!;
    expect(parts.map((part) => [part.name, part.contentType])).toEqual([
      ["metadata", "application/json"],
      ["index.js", ESM],
      ["lib.js", ESM],
      ["data.txt", "text/plain"],
      ["add.wasm", "application/wasm"],
      ["index.js.map", "application/source-map"],
    ]);
    expect(parts[0]!.content).toEqual(metadata);
    expect(parts[2]!.content).toBe('export const x = "lib";');
    expect(parts[4]!.size).toBe(8);

    const stored = f.state.workers.get(`${f.accountId}/api`)!;
    expect(stored.mainModule).toBe("index.js");
    expect(stored.bindings).toEqual(bindings);
    expect(Buffer.from(stored.modules.find((m) => m.name === "add.wasm")!.content)).toEqual(Buffer.from(wasm));

    const settings = await call(f, "GET", inAccount(f, "/workers/scripts/api/settings"));
    expect(settings.body.result.bindings).toContainEqual({ type: "secret_text", name: "API_KEY" });
    expect(JSON.stringify(settings.body.result)).not.toContain("s3cret");
    expect(settings.body.result.compatibility_flags).toEqual(["nodejs_compat"]);

    const list = await call(f, "GET", inAccount(f, "/workers/scripts"));
    expect(list.body.result.map((script: { id: string }) => script.id).sort()).toEqual(["api", "other"]);
  });

  it("refuses an upload whose main_module names no part, or whose main module is not an ES module", async () => {
    const missing = await putScript(fake(), "w", upload({ main_module: "worker.js" }));
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]).toEqual({ code: 10021, message: expect.stringContaining('"worker.js" names no part') });
    const notEsm = await putScript(fake(), "w", upload({ main_module: "index.js" }, { "index.js": ["x", "text/plain"] }));
    expect(notEsm.body.errors[0].message).toContain("must be application/javascript+module");
  });

  it("refuses a body that is not multipart, metadata that is not JSON, and a part of an unknown content type", async () => {
    expect((await putScript(fake(), "w", "export default {}", { "content-type": "application/javascript" })).body.errors[0].code).toBe(10021);
    const form = new FormData();
    form.set("metadata", "{oops");
    expect((await putScript(fake(), "w", form)).body.errors[0].message).toContain("not valid JSON");
    const odd = await putScript(fake(), "w", upload(simple, { "index.js": ["x", ESM], "img.png": ["x", "image/png"] }));
    expect(odd.body.errors[0].message).toContain('"img.png"');
  });

  it("refuses an unknown binding type, a binding missing its fields, and a duplicate binding name", async () => {
    const unknown = await putScript(fake(), "w", upload({ ...simple, bindings: [{ type: "telepathy", name: "T" }] }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].message).toContain('Unknown binding type "telepathy"');
    const noText = await putScript(fake(), "w", upload({ ...simple, bindings: [{ type: "plain_text", name: "P" }] }));
    expect(noText.body.errors[0].message).toContain('needs a string "text"');
    const twice = await putScript(fake(), "w", upload({ ...simple, bindings: [{ type: "ai", name: "X" }, { type: "version_metadata", name: "X" }] }));
    expect(twice.body.errors[0].message).toContain("more than once");
  });

  it("refuses bindings to resources that do not exist", async () => {
    const kv = await putScript(fake(), "w", upload({ ...simple, bindings: [{ type: "kv_namespace", name: "KV", namespace_id: "0".repeat(32) }] }));
    expect(kv.body.errors[0].code).toBe(10041);
    const r2 = await putScript(fake(), "w", upload({ ...simple, bindings: [{ type: "r2_bucket", name: "B", bucket_name: "nope" }] }));
    expect(r2.body.errors[0].code).toBe(10085);
    const service = await putScript(fake(), "w", upload({ ...simple, bindings: [{ type: "service", name: "S", service: "ghost" }] }));
    expect(service.body.errors[0].message).toContain('"ghost"');
    expect(fake().state.workers.size).toBe(0);
  });

  it("finds a bucket of a jurisdiction only by a binding that names it, as a bucket route finds it only by its header", async () => {
    await call(fake(), "POST", inAccount(fake(), "/r2/buckets"), { json: { name: "euro" }, headers: { "cf-r2-jurisdiction": "eu" } });
    const without = await putScript(fake(), "w", upload({ ...simple, bindings: [{ type: "r2_bucket", name: "B", bucket_name: "euro" }] }));
    expect([without.status, without.body.errors[0].code]).toEqual([400, 10085]);
    const named = await putScript(fake(), "w", upload({ ...simple, bindings: [{ type: "r2_bucket", name: "B", bucket_name: "euro", jurisdiction: "eu" }] }));
    expect(named.status).toBe(200);
  });

  it("keeps the previous version's bindings of the types named in keep_bindings", async () => {
    await putScript(fake(), "w", upload({ ...simple, bindings: [{ type: "secret_text", name: "TOKEN", text: "t" }, { type: "plain_text", name: "OLD", text: "o" }] }));
    await putScript(fake(), "w", upload({ ...simple, keep_bindings: ["secret_text"], bindings: [{ type: "plain_text", name: "NEW", text: "n" }] }));
    expect(fake().state.workers.get(`${fake().accountId}/w`)!.bindings.map((binding) => binding.name)).toEqual(["NEW", "TOKEN"]);
  });
});

/** A settings patch: the `settings` part as JSON, as the dashboard and Cloudflare's SDK send it. */
function patchSettings(fake: FakeCloudflare, name: string, settings: unknown): Promise<CallResult> {
  const form = new FormData();
  form.set("settings", new Blob([JSON.stringify(settings)], { type: "application/json" }), "settings.json");
  return call(fake, "PATCH", inAccount(fake, `/workers/scripts/${name}/settings`), { body: form });
}

describe("the fake Cloudflare API: Worker settings patches", () => {
  const fake = useFake();

  it("replaces the compatibility date, flags and bindings it is given, keeps a secret by inherit, and leaves the code and what it is not given alone", async () => {
    const f = fake();
    const bindings = [
      { type: "plain_text", name: "GREETING", text: "hello" },
      { type: "secret_text", name: "TOKEN", text: "s3cret" },
    ];
    await putScript(f, "w", upload({ ...simple, compatibility_flags: ["nodejs_compat"], bindings }));
    const before = f.state.workers.get(`${f.accountId}/w`)!;

    const dated = await patchSettings(f, "w", { compatibility_date: "2025-01-01" });
    expect(dated.status).toBe(200);
    expect(dated.body.result).toMatchObject({ compatibility_date: "2025-01-01", compatibility_flags: ["nodejs_compat"], bindings: [bindings[0], { type: "secret_text", name: "TOKEN" }] });

    const rebound = await patchSettings(f, "w", { compatibility_flags: [], bindings: [{ type: "plain_text", name: "GREETING", text: "edited" }, { type: "inherit", name: "TOKEN" }] });
    expect(rebound.body.result.compatibility_flags).toEqual([]);
    const after = f.state.workers.get(`${f.accountId}/w`)!;
    expect(after.bindings).toEqual([{ type: "plain_text", name: "GREETING", text: "edited" }, bindings[1]]);
    expect([after.etag, after.modules, after.mainModule]).toEqual([before.etag, before.modules, before.mainModule]);
  });

  it("refuses a patch without a settings part, bindings to what does not exist, and an inherit of a binding the script lacks; 404 for a missing script", async () => {
    await putScript(fake(), "w", upload(simple));
    const bare = await call(fake(), "PATCH", inAccount(fake(), "/workers/scripts/w/settings"), { body: new FormData() });
    expect(bare.status).toBe(400);
    expect((await patchSettings(fake(), "w", { bindings: [{ type: "kv_namespace", name: "KV", namespace_id: "0".repeat(32) }] })).body.errors[0].code).toBe(10041);
    expect((await patchSettings(fake(), "w", { bindings: [{ type: "inherit", name: "TOKEN" }] })).body.errors[0].message).toContain('inherits "TOKEN"');
    expect((await patchSettings(fake(), "ghost", {})).body.errors[0].code).toBe(10007);
  });
});

describe("the fake Cloudflare API: Worker subdomains, deletion and visibility", () => {
  const fake = useFake();

  it("starts an upload off workers.dev, then turns its subdomain on, reads it back, and turns it off", async () => {
    await putScript(fake(), "site", upload(simple));
    expect((await call(fake(), "GET", inAccount(fake(), "/workers/scripts/site/subdomain"))).body.result).toEqual({ enabled: false, previews_enabled: false });
    const on = await call(fake(), "POST", inAccount(fake(), "/workers/scripts/site/subdomain"), { json: { enabled: true } });
    expect(on.body.result).toEqual({ enabled: true, previews_enabled: false });
    expect((await call(fake(), "GET", inAccount(fake(), "/workers/scripts/site/subdomain"))).body.result.enabled).toBe(true);
    const off = await call(fake(), "POST", inAccount(fake(), "/workers/scripts/site/subdomain"), { json: { enabled: false } });
    expect(off.body.result).toEqual({ enabled: false, previews_enabled: false });
    const missing = await call(fake(), "POST", inAccount(fake(), "/workers/scripts/ghost/subdomain"), { json: { enabled: true } });
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0].code).toBe(10007);
  });

  it("deletes a script, then answers 404 with code 10007 for it", async () => {
    await putScript(fake(), "gone", upload(simple));
    const deleted = await call(fake(), "DELETE", inAccount(fake(), "/workers/scripts/gone"));
    expect(deleted.body).toMatchObject({ success: true, result: { id: "gone" } });
    for (const [method, suffix] of [
      ["DELETE", ""],
      ["GET", "/settings"],
    ] as const) {
      const res = await call(fake(), method, inAccount(fake(), `/workers/scripts/gone${suffix}`));
      expect(res.status).toBe(404);
      expect(res.body.errors[0].code).toBe(10007);
    }
  });

  it("hides a just-created script from GETs for the scripted window, then shows it", async () => {
    fake().notVisibleAfterCreate("worker", 300);
    await putScript(fake(), "late", upload(simple));
    const early = await call(fake(), "GET", inAccount(fake(), "/workers/scripts/late/settings"));
    expect(early.status).toBe(404);
    expect(early.body.errors[0].code).toBe(10007);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await call(fake(), "GET", inAccount(fake(), "/workers/scripts/late/settings"))).status).toBe(200);
  });
});
