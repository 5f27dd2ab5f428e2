import { describe, expect, it } from "vitest";
import { Secret } from "../../core/secrets/secret.js";
import type { FoundWorker } from "./backend.js";
import { workerPropsAsFound } from "./worker-drift.js";

const db = { name: "app-db", id: "0b0f5a8e-6f6c-4a43-9d35-3e1f0c1f2a11", backend: "remote" };
const bucket = { name: "app-files", backend: "remote" };
const props = {
  compatibilityFlags: ["nodejs_compat", "streams_enable_constructors"],
  bindings: { DB: db, FILES: bucket, GREETING: "hello", TOKEN: new Secret("s3cret") },
  codeHash: "abc",
  backend: "remote",
};
const recorded = { compatibilityDate: "2026-04-26", consumers: [] };

/** The Worker as uploaded from `props`, in the shapes the settings route may return. */
const asUploaded = (): FoundWorker => ({
  url: "https://app-api.acme.workers.dev/",
  compatibilityDate: "2026-04-26",
  compatibilityFlags: ["streams_enable_constructors", "nodejs_compat"],
  bindings: [
    { type: "d1", name: "DB", database_id: db.id },
    { type: "r2_bucket", name: "FILES", bucket_name: "app-files", jurisdiction: "default" },
    { type: "plain_text", name: "GREETING", text: "hello" },
    { type: "secret_text", name: "TOKEN" },
  ],
  consumers: [],
});

describe("a Worker's props as the API describes it", () => {
  it("are the recorded props when the API spells the same upload otherwise: database_id for id, extra fields, flags in another order, a secret without its text, the route on for url left to its default", () => {
    expect(workerPropsAsFound(props, asUploaded(), recorded)).toEqual(props);
  });

  it("keep a binding of a kind alchemy does not make in the API's terms, without its name", () => {
    const found = asUploaded();
    found.bindings.push({ type: "ai", name: "AI" }, { type: "json", name: "FLAGS", json: { beta: true } });
    expect(workerPropsAsFound(props, found, recorded).bindings).toEqual({ ...props.bindings, AI: { type: "ai" }, FLAGS: { beta: true } });
  });

  it("take a secret turned into a plain var as its text, and a database binding turned into JSON as the JSON", () => {
    const found = asUploaded();
    found.bindings = [{ type: "json", name: "DB", json: { id: db.id } }, found.bindings[1]!, found.bindings[2]!, { type: "plain_text", name: "TOKEN", text: "visible" }];
    expect(workerPropsAsFound(props, found, recorded).bindings).toEqual({ DB: { id: db.id }, FILES: bucket, GREETING: "hello", TOKEN: "visible" });
  });

  it("take a workers.dev route turned off as url: false, and one turned on for a Worker with url: false as url: true", () => {
    expect(workerPropsAsFound(props, { ...asUploaded(), url: null }, recorded)).toEqual({ ...props, url: false });
    expect(workerPropsAsFound({ ...props, url: false }, asUploaded(), recorded)).toEqual({ ...props, url: true });
    expect(workerPropsAsFound({ ...props, url: false }, { ...asUploaded(), url: null }, recorded)).toEqual({ ...props, url: false });
  });
});
