import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { jsonEqual } from "../../core/props.js";
import { isSecret, type Secret } from "../../core/secrets/secret.js";
import { SecretError } from "../../core/secrets/secret-error.js";
import { StateStoreError } from "../../core/errors.js";
import { convertV094Stage } from "./convert-v094-stage.js";
import { readV094Stage, type V094Stage } from "./v094-layout.js";
import { cleanV094Value, type V094Field } from "./v094-values.js";
import { APP, PASSWORD, STAGE } from "./fixtures/storefront.mjs";

// State that Alchemy 0.94 itself wrote (bench/v094-fixture/generate.mjs).
const FIXTURE = fileURLToPath(new URL("./fixtures/v094-state", import.meta.url));
const fixture = () => readV094Stage(FIXTURE, APP, STAGE);
const convert = async (stage: V094Stage) => {
  const conversion = await convertV094Stage(stage, { password: PASSWORD });
  return { conversion, state: (fqn: string) => conversion.records.find((r) => r.state.fqn === `storefront/prod/${fqn}`)!.state };
};
// The fixture converted once (each secret costs a scrypt derivation); tests only read it.
let converted: ReturnType<typeof convert> | undefined;
const byFqn = (stage?: V094Stage) => (stage ? convert(stage) : (converted ??= convert(fixture())));

describe("converting a stage Alchemy 0.94 wrote", () => {
  it("takes every resource record with its fqn from 0.94's chain and drops the alchemy::Scope records", async () => {
    const { conversion } = await byFqn();
    expect(conversion.records.map((r) => [r.chain.join("/"), r.state.id, r.state.fqn, r.state.kind])).toEqual([
      ["storefront/prod", "assets", "storefront/prod/assets", "fixture::Bucket"],
      ["storefront/prod/backend", "db", "storefront/prod/backend/db", "fixture::Database"],
      ["storefront/prod/backend/workers", "api", "storefront/prod/backend/workers/api", "fixture::Worker"],
      ["storefront/prod", "site", "storefront/prod/site", "fixture::Site"],
      ["storefront/prod/site", "index", "storefront/prod/site/index", "fixture::Page"],
      ["storefront/prod", "www", "storefront/prod/www", "fixture::Route"],
    ]);
    expect(conversion.droppedScopes).toEqual(["storefront/prod/backend", "storefront/prod/backend/workers"]);
    // The fixture holds what the issue describes: one scope record beside each nested scope's directory.
    expect(fixture().files.filter((f) => (f.value as { kind: string }).kind === "alchemy::Scope").map((f) => path.relative(FIXTURE, f.file)).sort()).toEqual([
      "storefront/prod/backend.json",
      "storefront/prod/backend/workers.json",
    ]);
  });

  it("recovers dependencies from the outputs embedded in props, the outermost ones only", async () => {
    const { conversion, state } = await byFqn();
    expect(state("backend/workers/api").deps).toEqual(["storefront/prod/assets", "storefront/prod/backend/db"]);
    // www's props embed api's output, which embeds db and assets again: only api is a dependency of www.
    expect(state("www").deps).toEqual(["storefront/prod/backend/workers/api"]);
    for (const id of ["assets", "backend/db", "site", "site/index"]) expect(state(id).deps).toEqual([]);
    expect(conversion.dependencies).toBe(3);
  });

  it("leaves no symbol keys, and an embedded copy equals the output it copied, as this engine stores an output passed as a prop", async () => {
    const { conversion, state } = await byFqn();
    expect(JSON.stringify(conversion.records)).not.toContain("Symbol(");
    expect(JSON.stringify(fixture().files.map((f) => f.value))).toContain('"Symbol(alchemy::ResourceFQN)":"storefront/prod/backend/workers/api"');
    expect(jsonEqual((state("www").props as { worker: unknown }).worker, state("backend/workers/api").output)).toBe(true);
    expect(jsonEqual((state("backend/workers/api").props as { bindings: { DB: unknown } }).bindings.DB, state("backend/db").output)).toBe(true);
    expect(state("assets").output).toEqual({ name: "storefront-assets", url: "https://storefront-assets.storage.example" });
  });

  it("decrypts every secret with the password into a Secret, embedded copies included", async () => {
    const { conversion, state } = await byFqn();
    const db = state("backend/db");
    expect(isSecret((db.props as { password: unknown }).password)).toBe(true);
    expect(((db.props as { password: Secret }).password).unwrap()).toBe("fixture-db-password");
    const www = state("www").props as { worker: { env: { API_TOKEN: Secret }; bindings: { DB: { password: Secret } } } };
    expect(www.worker.env.API_TOKEN.unwrap()).toBe("sk_fixture_api_token");
    expect(www.worker.bindings.DB.password.unwrap()).toBe("fixture-db-password");
    expect(conversion.secrets).toBe(8);
  });

  it("keeps status, kind and seq: the resources the second deploy changed are updated, the others created", async () => {
    const { state } = await byFqn();
    expect(state("backend/workers/api").status).toBe("updated");
    expect(state("www").status).toBe("updated");
    expect(state("assets").status).toBe("created");
    expect((state("backend/workers/api").props as { env: { MODE: string } }).env.MODE).toBe("live");
  });

  it("gives a record 0.94 left updating the props it had before that update, as this engine records an unfinished update", async () => {
    // v094-interrupted/: the same state after a third deploy whose worker update failed (mode "fail").
    const interrupted = readV094Stage(fileURLToPath(new URL("./fixtures/v094-interrupted", import.meta.url)), APP, STAGE);
    const raw = interrupted.files.find((f) => f.id === "api")!.value as { status: string; props: { env: { MODE: string } }; oldProps: { env: { MODE: string } } };
    expect([raw.status, raw.props.env.MODE, raw.oldProps.env.MODE]).toEqual(["updating", "fail", "live"]);
    const { state } = await byFqn(interrupted);
    const api = state("backend/workers/api");
    expect(api.status).toBe("updating");
    expect((api.props as { env: { MODE: string } }).env.MODE).toBe("live");
    expect((api.output as { env: { MODE: string } }).env.MODE).toBe("live");
    expect(api.deps).toEqual(["storefront/prod/assets", "storefront/prod/backend/db"]);
    expect(api).not.toHaveProperty("oldProps");
  });

  it("refuses without a password, naming the first secret, and with a wrong one", async () => {
    const none = await convertV094Stage(fixture()).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(SecretError);
    expect((none as SecretError).message).toMatch(/^Stage storefront\/prod holds 8 secret value\(s\) Alchemy 0.94 encrypted \(the first: storefront\/prod\/backend\/db props.password\), and no password was given/);
    const wrong = await convertV094Stage(fixture(), { password: "not it" }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(SecretError);
    expect((wrong as SecretError).reason).toBe("wrong-password");
    expect((wrong as SecretError).message).toContain("ALCHEMY_PASSWORD does not decrypt the secret at");
  });

  it("refuses a stage whose scope records list replaced instances 0.94 has yet to delete", async () => {
    const stage = fixture();
    const scope = stage.files.find((f) => f.file.endsWith("backend.json"))!;
    (scope.value as { data: Record<string, unknown> }).data.pendingDeletions = [{ resource: {}, oldProps: {} }];
    await expect(convertV094Stage(stage, { password: PASSWORD })).rejects.toThrow(/lists 1 replaced resource instance\(s\) that Alchemy 0.94 has not deleted yet/);
  });

  it("refuses a record this engine wrote, a stage holding this engine's files, and a name this engine cannot take", async () => {
    const ours = fixture();
    (ours.files.find((f) => f.id === "assets")!.value as Record<string, unknown>).deps = [];
    await expect(convertV094Stage(ours, { password: PASSWORD })).rejects.toThrow(/it has "deps", which Alchemy 0.94 never writes/);
    await expect(convertV094Stage({ ...fixture(), engineEntries: ["~journal"] }, { password: PASSWORD })).rejects.toThrow(/holds files of this engine's store \(~journal\)/);
    const spaced = fixture();
    const file = spaced.files.find((f) => f.id === "assets")!;
    Object.assign(file, { id: "my assets" });
    Object.assign(file.value as object, { id: "my assets", fqn: "storefront/prod/my assets" });
    await expect(convertV094Stage(spaced, { password: PASSWORD })).rejects.toThrow(/the name "my assets" in its fqn "storefront\/prod\/my assets" contains " "/);
  });
});

describe("cleaning a 0.94 value", () => {
  const field = (notes: string[] = []): V094Field => ({
    fqn: "app/prod/x",
    file: "/x.json",
    root: "props",
    deps: new Set(),
    note: (m) => notes.push(m),
    openSecret: () => Promise.reject(new Error("no secrets here")),
  });

  it("turns a Date and a buffer into the strings the program must pass, and says so", async () => {
    const notes: string[] = [];
    expect(await cleanV094Value({ at: { "@date": "2025-01-02T03:04:05.000Z" }, bytes: { "@buffer": "aGk=" }, schema: { "@schema": { type: "string" } } }, field(notes))).toEqual({
      at: "2025-01-02T03:04:05.000Z",
      bytes: "aGk=",
      schema: { type: "string" },
    });
    expect(notes).toEqual([
      'app/prod/x props.at: a Date, kept as its ISO string "2025-01-02T03:04:05.000Z" (pass date.toISOString() in the program)',
      'app/prod/x props.bytes: a buffer, kept as its base64 string (pass buffer.toString("base64") in the program)',
    ]);
  });

  it("refuses a symbol or a scope passed as a value", async () => {
    await expect(cleanV094Value({ tag: { "@symbol": "Symbol(x)" } }, field())).rejects.toThrow(StateStoreError);
    await expect(cleanV094Value({ s: { "@scope": null } }, field())).rejects.toThrow(/props.s is a scope, which this engine cannot store/);
  });
});
