import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import alchemy from "alchemy";
import { D1Database, KVNamespace, Queue, R2Bucket, Worker } from "alchemy/cloudflare";
import { writeProfiles } from "../../../core/profiles/profile-file.js";
import { DEFAULT_TOKEN, startFakeCloudflare, type FakeCloudflare } from "./fake/fake-cloudflare.test-fixture.js";
import { allText, guardFetch, mutations, project, records, runApp, type RunAppOptions, type RunReport } from "./remote-deploy.test-fixture.js";

const SECRET = "s3cr3t-binding-value";
const SUBDOMAIN = "fake-account"; // the fake's subdomain of DEFAULT_ACCOUNT ("Fake Account")

let fake: FakeCloudflare;
let limitedFake: FakeCloudflare | undefined;
let guard: ReturnType<typeof guardFetch>;
let dir: string;
let removeDir: () => void;

beforeAll(async () => {
  fake = await startFakeCloudflare();
  // Installed before any run builds its API client, which keeps the fetch it finds.
  guard = guardFetch(() => [fake.baseUrl, ...(limitedFake ? [limitedFake.baseUrl] : [])]);
});
afterAll(async () => {
  guard.restore();
  await fake.close();
  await limitedFake?.close();
});
beforeEach(() => {
  fake.reset();
  ({ dir, remove: removeDir } = project());
});
afterEach(() => {
  removeDir();
  expect(guard.strays).toEqual([]);
});

/** The program of most tests: every resource kind, and a Worker binding them all. */
const fullProgram = (options: { greeting?: string; empty?: boolean } = {}) => async () => {
  const db = await D1Database("db", { migrationsDir: "migrations" });
  const cache = await KVNamespace("cache");
  const files = await R2Bucket("files", options.empty ? { empty: true } : {});
  const jobs = await Queue("jobs");
  const backend = await Worker("backend", { script: "src/backend.js" });
  const api = await Worker("api", {
    script: "src/api.js",
    bindings: {
      DB: db,
      CACHE: cache,
      FILES: files,
      JOBS: jobs,
      GREETING: options.greeting ?? "hello",
      LIMITS: { perMinute: 60, burst: [1, 2] },
      TOKEN: alchemy.secret(SECRET),
      BACKEND: backend,
    },
    eventSources: [jobs],
  });
  return { db: { ...db }, cache: { ...cache }, files: { ...files }, jobs: { ...jobs }, backend: { ...backend }, api: { ...api } };
};

/** Runs `program` against the fake; the run must succeed. */
async function deploy<T>(program: () => Promise<T>, options: RunAppOptions = {}): Promise<RunReport<T> & { result: T }> {
  const report = await runApp(fake, dir, program, options);
  if (report.error !== undefined) throw report.error;
  return report as RunReport<T> & { result: T };
}

/** Runs `program` against the fake; the run must fail. */
async function deployFailing<T>(program: () => Promise<T>, options: RunAppOptions = {}): Promise<RunReport<T> & { error: Error }> {
  const report = await runApp(fake, dir, program, options);
  expect(report.error, "the run should have failed").toBeInstanceOf(Error);
  return report as RunReport<T> & { error: Error };
}

/** Everything a run said: warnings, console, events, and each error with its causes and stacks. */
function said(report: RunReport<unknown>): string {
  const errors: unknown[] = [report.error, ...report.events.map((e) => e.error)];
  const chains = errors.flatMap((error) => {
    const texts: string[] = [];
    for (let e: unknown = error; e instanceof Error; e = e.cause) texts.push(e.message, e.stack ?? "", JSON.stringify(e));
    return texts;
  });
  return [...report.warnings, ...report.console, JSON.stringify(report.events), ...chains].join("\n");
}

const account = () => `/accounts/${fake.accountId}`;

describe("a deploy through the remote backend", () => {
  it("creates every resource with the documented requests, migrates D1 once per file, and uploads the Worker with its bindings", async () => {
    const { result, warnings } = await deploy(fullProgram());
    const { db, cache, files, jobs, backend, api } = result;
    expect(warnings).toEqual([]);
    expect([db.name, cache.title, files.name, jobs.name, backend.name, api.name]).toEqual([
      "app-cf-db-test",
      "app-cf-cache-test",
      "app-cf-files-test",
      "app-cf-jobs-test",
      "app-cf-backend-test",
      "app-cf-api-test",
    ]);
    const d1 = `${account()}/d1/database/${db.id}/query`;
    const queue = `${account()}/queues/${jobs.id}`;
    expect(fake.requests.filter((r) => r.method !== "GET").map((r) => [`${r.method} ${r.path}`, r.body])).toEqual([
      [`POST ${account()}/d1/database`, { name: "app-cf-db-test" }],
      [`POST ${d1}`, { sql: expect.stringMatching(/^CREATE TABLE IF NOT EXISTS d1_migrations /) }],
      [`POST ${d1}`, { sql: "SELECT name FROM d1_migrations", params: [] }],
      [`POST ${d1}`, { sql: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);" }],
      [`POST ${d1}`, { sql: "INSERT INTO d1_migrations (name) VALUES (?)", params: ["0001_users.sql"] }],
      [`POST ${d1}`, { sql: "INSERT INTO users (name) VALUES ('ada');" }],
      [`POST ${d1}`, { sql: "INSERT INTO d1_migrations (name) VALUES (?)", params: ["0002_seed.sql"] }],
      [`POST ${account()}/storage/kv/namespaces`, { title: "app-cf-cache-test" }],
      [`POST ${account()}/r2/buckets`, { name: "app-cf-files-test" }],
      [`POST ${account()}/queues`, { queue_name: "app-cf-jobs-test" }],
      [`PUT ${account()}/workers/scripts/app-cf-backend-test`, undefined],
      [`POST ${account()}/workers/scripts/app-cf-backend-test/subdomain`, { enabled: true }],
      [`PUT ${account()}/workers/scripts/app-cf-api-test`, undefined],
      [`POST ${queue}/consumers`, { script_name: "app-cf-api-test", type: "worker", settings: {} }],
      [`POST ${account()}/workers/scripts/app-cf-api-test/subdomain`, { enabled: true }],
    ]);
    expect(fake.requests.filter((r) => r.body !== undefined).every((r) => r.headers["content-type"] === "application/json")).toBe(true);
    expect(new Set(fake.requests.filter((r) => r.method === "GET").map((r) => r.path))).toEqual(
      new Set([
        ...["backend", "api"].map((w) => `${account()}/workers/scripts/app-cf-${w}-test/settings`), // 404: the names are free
        ...["backend", "api"].map((w) => `${account()}/workers/scripts/app-cf-${w}-test/subdomain`), // off, so turned on
        `${account()}/queues`,
        `${queue}/consumers`,
        `${account()}/workers/subdomain`,
      ]),
    );

    const upload = fake.requests.find((r) => r.method === "PUT" && r.path.endsWith("/app-cf-api-test"))!;
    expect(upload.parts?.map((p) => [p.name, p.contentType])).toEqual([
      ["metadata", "application/json"],
      ["index.js", "application/javascript+module"],
      ["index.js.map", "application/source-map"],
    ]);
    expect(upload.parts![0]!.content).toEqual({
      main_module: "index.js",
      compatibility_date: "2026-04-26",
      compatibility_flags: [],
      bindings: [
        { type: "service", name: "BACKEND", service: "app-cf-backend-test" },
        { type: "kv_namespace", name: "CACHE", namespace_id: cache.id },
        { type: "d1", name: "DB", id: db.id },
        { type: "r2_bucket", name: "FILES", bucket_name: "app-cf-files-test" },
        { type: "plain_text", name: "GREETING", text: "hello" },
        { type: "queue", name: "JOBS", queue_name: "app-cf-jobs-test" },
        { type: "json", name: "LIMITS", json: { perMinute: 60, burst: [1, 2] } },
        { type: "secret_text", name: "TOKEN", text: SECRET },
      ],
    });
    expect(String(upload.parts![1]!.content)).toContain('new Response("hello " + env.GREETING)');

    expect(fake.state.d1Databases.get(db.id)!.db.prepare("SELECT name FROM d1_migrations ORDER BY id").all()).toEqual([
      { name: "0001_users.sql" },
      { name: "0002_seed.sql" },
    ]);
    expect(fake.state.d1Databases.get(db.id)!.db.prepare("SELECT name FROM users").all()).toEqual([{ name: "ada" }]);
    expect(fake.state.queues.get(jobs.id)!.consumers.map((c) => [c.type, c.scriptName])).toEqual([["worker", "app-cf-api-test"]]);
    expect(fake.state.workers.get(`${fake.accountId}/app-cf-api-test`)!.subdomainEnabled).toBe(true);
    expect(api.url).toBe(`https://app-cf-api-test.${SUBDOMAIN}.workers.dev/`);
    expect(backend.url).toBe(`https://app-cf-backend-test.${SUBDOMAIN}.workers.dev/`);
  });

  it("keeps the secret binding's text out of state, outputs, warnings, events and errors", async () => {
    const report = await deploy(fullProgram());
    expect(JSON.stringify(fake.state.workers.get(`${fake.accountId}/app-cf-api-test`)!.bindings)).toContain(SECRET);
    expect(allText(path.join(dir, ".alchemy"))).not.toContain(SECRET);
    expect(JSON.stringify(report.result)).not.toContain(SECRET);
    expect(said(report)).not.toContain(SECRET);

    fake.failNext({ method: "PUT", path: /\/workers\/scripts\/app-cf-api-test$/ }, { status: 400, errors: [{ code: 10021, message: "Uncaught Error: boom" }] });
    const failed = await deployFailing(fullProgram({ greeting: "changed" }));
    expect(failed.error.message).toContain("app/test/cf/api");
    expect(said(failed)).toContain("Uncaught Error: boom");
    expect(said(failed)).not.toContain(SECRET);
    expect(allText(path.join(dir, ".alchemy"))).not.toContain(SECRET);
  });

  it("sends no request that changes anything when redeployed unchanged", async () => {
    await deploy(fullProgram());
    const mark = fake.requests.length;
    const { events } = await deploy(fullProgram());
    expect(events.map((e) => e.action)).toEqual(Array(6).fill("noop"));
    expect(mutations(fake.requests.slice(mark))).toEqual([]);
  });

  it("re-uploads only the Worker when only a plain var changes", async () => {
    await deploy(fullProgram());
    const mark = fake.requests.length;
    const { events } = await deploy(fullProgram({ greeting: "bonjour" }));
    expect(events.filter((e) => e.action !== "noop").map((e) => `${e.action} ${e.fqn}`)).toEqual(["update app/test/cf/api"]);
    expect(mutations(fake.requests.slice(mark))).toEqual([`PUT ${account()}/workers/scripts/app-cf-api-test`]);
    const metadata = fake.requests.slice(mark).find((r) => r.method === "PUT")!.parts![0]!.content as { bindings: { name: string }[] };
    expect(metadata.bindings.find((b) => b.name === "GREETING")).toEqual({ type: "plain_text", name: "GREETING", text: "bonjour" });
    expect(fake.state.queues.values().next().value!.consumers).toHaveLength(1);
  });
});

describe("queue consumers", () => {
  const consumerProgram = (settings: { batchSize?: number; maxWaitTimeSeconds?: number } | undefined) => async () => {
    const jobs = await Queue("jobs");
    const worker = await Worker("backend", { script: "src/backend.js", eventSources: settings ? [{ queue: jobs, settings }] : [] });
    return { jobs: { ...jobs }, worker: { ...worker } };
  };
  const consumers = () => [...fake.state.queues.values()].flatMap((q) => q.consumers.map((c) => [c.scriptName, c.settings.batch_size, c.settings.max_wait_time_ms]));

  it("receive what the program sends with queue.send, through the API's push-message route", async () => {
    await deploy(async () => {
      const jobs = await Queue("jobs");
      await jobs.send({ id: "j1", task: "resize" });
      return {};
    });
    expect([...fake.state.queues.values()].map((q) => [q.name, q.messages])).toEqual([["app-cf-jobs-test", [{ id: "j1", task: "resize" }]]]);
  });

  it("follow the Worker's eventSources: new settings make the consumer again, a queue dropped from them loses it", async () => {
    await deploy(consumerProgram({ batchSize: 1 }));
    expect(consumers()).toEqual([["app-cf-backend-test", 1, 5000]]);

    const mark = fake.requests.length;
    await deploy(consumerProgram({ batchSize: 5, maxWaitTimeSeconds: 2 }));
    expect(consumers()).toEqual([["app-cf-backend-test", 5, 2000]]);
    const changed = mutations(fake.requests.slice(mark));
    expect(changed.filter((m) => m.includes("/consumers"))).toEqual([
      expect.stringMatching(/^DELETE .*\/queues\/[^/]+\/consumers\/[^/]+$/),
      expect.stringMatching(/^POST .*\/queues\/[^/]+\/consumers$/),
    ]);

    await deploy(consumerProgram(undefined));
    expect(consumers()).toEqual([]);
  });

  it("take a consumer listed with an empty dead_letter_queue as one without, and leave it be when nothing changed", async () => {
    await deploy(consumerProgram({ batchSize: 1 }));
    // The API may list "no dead-letter queue" as an empty string rather than leave the field out.
    for (const queue of fake.state.queues.values()) queue.consumers.splice(0, queue.consumers.length, ...queue.consumers.map((c) => ({ ...c, deadLetterQueue: "" })));
    appendFileSync(path.join(dir, "src/backend.js"), "\n// edited: the Worker is uploaded again, and its consumers compared\n");
    const mark = fake.requests.length;
    await deploy(consumerProgram({ batchSize: 1 }));
    expect(mutations(fake.requests.slice(mark)).some((m) => /^PUT .*\/workers\/scripts\//.test(m))).toBe(true);
    expect(mutations(fake.requests.slice(mark)).filter((m) => m.includes("/consumers"))).toEqual([]);
  });
});

describe("a Worker's workers.dev route (url)", () => {
  const program = (url?: boolean) => async () => ({ ...(await Worker("backend", { script: "src/backend.js", ...(url === undefined ? {} : { url }) })) });
  const subdomain = () => `${account()}/workers/scripts/app-cf-backend-test/subdomain`;
  const enabled = () => fake.state.workers.get(`${fake.accountId}/app-cf-backend-test`)!.subdomainEnabled;
  const recordedUrl = async () => (await records(dir)).backend!.output as { url?: string };

  it("is turned off by an update to url: false and on again by url: true, and the output says the url or none", async () => {
    const on = await deploy(program());
    expect([enabled(), on.result.url]).toEqual([true, `https://app-cf-backend-test.${SUBDOMAIN}.workers.dev/`]);

    let mark = fake.requests.length;
    const off = await deploy(program(false));
    expect(off.events.map((e) => e.action)).toEqual(["update"]);
    expect(fake.requests.slice(mark).filter((r) => r.path === subdomain() && r.method === "POST").map((r) => r.body)).toEqual([{ enabled: false }]);
    expect(enabled()).toBe(false);
    expect(off.result.url).toBeUndefined();
    expect((await recordedUrl()).url).toBeUndefined();

    mark = fake.requests.length;
    const back = await deploy(program(true));
    expect(fake.requests.slice(mark).filter((r) => r.path === subdomain() && r.method === "POST").map((r) => r.body)).toEqual([{ enabled: true }]);
    expect(enabled()).toBe(true);
    expect(back.result.url).toBe(`https://app-cf-backend-test.${SUBDOMAIN}.workers.dev/`);
    expect((await recordedUrl()).url).toBe(back.result.url);
  });

  it("is left alone by an update that does not change it, and never turned on for a Worker created with url: false", async () => {
    await deploy(program(false));
    expect(enabled()).toBe(false);
    expect(mutations(fake.requests).filter((m) => m.endsWith("/subdomain"))).toEqual([]);
    appendFileSync(path.join(dir, "src/backend.js"), "\n// edited: the Worker is uploaded again\n");
    const mark = fake.requests.length;
    const edited = await deploy(program(false));
    expect(edited.events.map((e) => e.action)).toEqual(["update"]);
    expect(mutations(fake.requests.slice(mark))).toEqual([`PUT ${account()}/workers/scripts/app-cf-backend-test`]);
    expect([enabled(), edited.result.url]).toEqual([false, undefined]);
  });
});

describe("the read phase", () => {
  const small = async () => ({ cache: { ...(await KVNamespace("cache")) }, worker: { ...(await Worker("backend", { script: "src/backend.js" })) } });

  it("asks the API whether each resource still exists: present, it shows the record; deleted behind alchemy's back, it says so and how to make it again", async () => {
    const deployed = await deploy(small);
    const mark = fake.requests.length;
    const read = await deploy(small, { phase: "read" });
    expect(read.result).toEqual(deployed.result);
    expect(fake.requests.slice(mark).map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET ${account()}/storage/kv/namespaces/${deployed.result.cache.id}`,
      `GET ${account()}/workers/scripts/app-cf-backend-test/settings`,
      `GET ${account()}/workers/scripts/app-cf-backend-test/subdomain`,
      `GET ${account()}/workers/subdomain`, // the route is on: where it answers there
    ]);

    fake.state.kvNamespaces.clear();
    const gone = await deployFailing(small, { phase: "read" });
    expect(gone.error.message + said(gone)).toContain(
      '"app/test/cf/cache" no longer exists: its read found it deleted outside alchemy, though its record remains. Run alchemy deploy --refresh to create it again, or alchemy refresh to remove its record.',
    );
    expect(mutations(fake.requests.slice(mark))).toEqual([]);
  });
});

describe("a destroy through the remote backend", () => {
  it("deletes each Worker before what it binds and the consumer before its queue, leaving the account empty", async () => {
    const { result } = await deploy(fullProgram());
    const mark = fake.requests.length;
    await deploy(fullProgram(), { phase: "destroy" });
    const deletes = mutations(fake.requests.slice(mark));
    const at = (suffix: string) => {
      const index = deletes.indexOf(`DELETE ${account()}${suffix}`);
      expect(index, `DELETE ${suffix} in ${deletes.join(", ")}`).toBeGreaterThanOrEqual(0);
      return index;
    };
    const consumerId = deletes.find((d) => d.includes("/consumers/"))!.split("/").at(-1);
    const api = at("/workers/scripts/app-cf-api-test");
    for (const bound of [`/d1/database/${result.db.id}`, `/storage/kv/namespaces/${result.cache.id}`, "/r2/buckets/app-cf-files-test", `/queues/${result.jobs.id}`, "/workers/scripts/app-cf-backend-test"]) {
      expect(api).toBeLessThan(at(bound));
    }
    expect(at(`/queues/${result.jobs.id}/consumers/${consumerId}`)).toBeLessThan(at(`/queues/${result.jobs.id}`));
    expect(deletes).toHaveLength(7);
    expect(deletes.every((d) => d.startsWith("DELETE "))).toBe(true);
    expect([fake.state.workers, fake.state.d1Databases, fake.state.kvNamespaces, fake.state.r2Buckets, fake.state.queues].map((m) => m.size)).toEqual([0, 0, 0, 0, 0]);
    expect(await records(dir)).toEqual({});

    const again = fake.requests.length;
    await deploy(fullProgram(), { phase: "destroy" });
    expect(mutations(fake.requests.slice(again))).toEqual([]);
  });

  it("succeeds when the resources are already gone from the account, on the 404s", async () => {
    await deploy(fullProgram({ empty: true }));
    fake.reset(); // the account forgets everything; the stage's records stay
    const { events } = await deploy(fullProgram({ empty: true }), { phase: "destroy" });
    expect(events.filter((e) => e.status === "done").map((e) => e.action)).toEqual(Array(6).fill("delete"));
    expect(fake.requests.filter((r) => r.method === "DELETE").map((r) => r.status)).toEqual(Array(5).fill(404));
    expect(await records(dir)).toEqual({});
  });
});

describe("rate limits", () => {
  it("waits out a 429 on a create and on a delete, saying so in the run's warnings", async () => {
    fake.failNext({ method: "POST", path: /\/d1\/database$/ }, { status: 429, retryAfter: 1 });
    const up = await deploy(fullProgram());
    expect(up.warnings).toContain(`rate limited by Cloudflare, resuming in 1 s (POST ${account()}/d1/database)`);
    expect(fake.requests.filter((r) => r.method === "POST" && r.path.endsWith("/d1/database")).map((r) => r.status)).toEqual([429, 200]);

    fake.failNext({ method: "DELETE", path: /\/storage\/kv\/namespaces\/[^/]+$/ }, { status: 429, retryAfter: 1 });
    const down = await deploy(fullProgram(), { phase: "destroy" });
    expect(down.warnings).toContain(`rate limited by Cloudflare, resuming in 1 s (DELETE ${account()}/storage/kv/namespaces/${up.result.cache.id})`);
    expect(fake.state.kvNamespaces.size).toBe(0);
    expect(await records(dir)).toEqual({});
  });
});

describe("credentials", () => {
  const LIMITED = "limited-token-7f3a9c";
  let home: string;
  let savedHome: string | undefined;
  beforeAll(async () => {
    limitedFake = await startFakeCloudflare({ tokens: { [LIMITED]: { permissions: ["Account Settings Read"] } } });
    home = mkdtempSync(path.join(tmpdir(), "alchemy-home-"));
    writeProfiles(path.join(home, "profiles.json"), {
      profiles: { ci: { cloudflare: { apiToken: LIMITED, accountId: limitedFake.accountId, baseUrl: limitedFake.baseUrl } } },
    });
    savedHome = process.env.ALCHEMY_HOME;
    process.env.ALCHEMY_HOME = home;
  });
  afterAll(() => {
    if (savedHome === undefined) delete process.env.ALCHEMY_HOME;
    else process.env.ALCHEMY_HOME = savedHome;
    rmSync(home, { recursive: true, force: true });
  });

  it("fails a deploy whose token lacks a permission, naming the profile and the permission, never the token", async () => {
    const report = await runApp(limitedFake!, dir, fullProgram(), { token: "profile", profile: "ci" });
    expect(report.error).toBeInstanceOf(Error);
    const message = (report.error as Error).message;
    expect(message).toContain('profile "ci"');
    expect(message).toContain('"D1 Write"');
    expect(message).toContain("app/test/cf/db");
    expect(said(report)).not.toContain(LIMITED);
    expect(allText(path.join(dir, ".alchemy"))).not.toContain(LIMITED);
    expect(limitedFake!.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["POST 403"]);
  });

  it("says a refused token came from the scope's credentials override, and never suggests alchemy profile set for it", async () => {
    limitedFake!.requests.length = 0;
    const report = await runApp(limitedFake!, dir, fullProgram(), { token: LIMITED, profile: "ci" });
    const message = (report.error as Error).message;
    expect(message).toContain("the API token the program gives (a scope's credentials override, or a store's apiToken option) lacks a permission");
    expect(message).toContain('"D1 Write"');
    expect(message).not.toContain("alchemy profile set");
    expect(said(report)).not.toContain(LIMITED);
  });
});

describe("adoption", () => {
  const kvOnly = async () => ({ ...(await KVNamespace("cache")) });

  it("refuses a KV namespace whose title is taken unless the run adopts, then takes it over without making another", async () => {
    const existing = await fetch(`${fake.baseUrl}${account()}/storage/kv/namespaces`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEFAULT_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "app-cf-cache-test" }),
    }).then((r) => r.json() as Promise<{ result: { id: string } }>);

    const refused = await deployFailing(kvOnly);
    expect(refused.error.message).toMatch(/KV namespace app-cf-cache-test already exists in the Cloudflare account.*--adopt \(option adopt: true\)/);
    expect((await records(dir)).cache?.status).not.toBe("created");
    expect((await records(dir)).cache?.output).toBeUndefined();

    const adopted = await deploy(kvOnly, { adopt: true });
    expect(adopted.result.id).toBe(existing.result.id);
    expect([...fake.state.kvNamespaces.values()].map((ns) => ns.title)).toEqual(["app-cf-cache-test"]);
    expect((await records(dir)).cache).toMatchObject({ status: "created", output: { id: existing.result.id } });
  });

  it("refuses a Worker whose name is taken in the account unless the run adopts, instead of overwriting it", async () => {
    const form = new FormData();
    form.append("metadata", new Blob([JSON.stringify({ main_module: "index.js" })], { type: "application/json" }));
    form.append("index.js", new Blob(["export default { fetch() { return new Response('theirs'); } };"], { type: "application/javascript+module" }), "index.js");
    await fetch(`${fake.baseUrl}${account()}/workers/scripts/app-cf-backend-test`, { method: "PUT", headers: { authorization: `Bearer ${DEFAULT_TOKEN}` }, body: form });
    const workerOnly = async () => ({ ...(await Worker("backend", { script: "src/backend.js" })) });

    const refused = await deployFailing(workerOnly);
    expect(refused.error.message).toMatch(/Worker app-cf-backend-test already exists in the Cloudflare account.*--adopt/);
    expect(mutations(fake.requests).filter((m) => m.startsWith("PUT "))).toHaveLength(1); // only the one above

    await deploy(workerOnly, { adopt: true });
    expect(new TextDecoder().decode(fake.state.workers.get(`${fake.accountId}/app-cf-backend-test`)!.modules[0]!.content)).toContain('"backend"');
  });
});

describe("R2 buckets", () => {
  const bucketProgram = (props: Parameters<typeof R2Bucket>[1] = {}) => async () => {
    const files = await R2Bucket("files", props);
    if ((await files.list()).length === 0) await files.put("reports/a.txt", "hello");
    return { ...files };
  };

  it("are not deleted while they hold objects unless empty: true, which deletes the objects first", async () => {
    await deploy(bucketProgram());
    const refused = await runApp(fake, dir, bucketProgram(), { phase: "destroy" });
    expect((refused.error as Error).message).toMatch(/R2 bucket app-cf-files-test still holds objects.*set empty: true on the R2Bucket/);
    expect(fake.state.r2Buckets.size).toBe(1);
    expect(Object.keys(await records(dir))).toEqual(["files"]);

    await deploy(bucketProgram({ empty: true }));
    await deploy(bucketProgram({ empty: true }), { phase: "destroy" });
    expect(fake.state.r2Buckets.size).toBe(0);
    expect(await records(dir)).toEqual({});
  });

  it("in a jurisdiction have their objects written, read and deleted in that jurisdiction", async () => {
    const roundTrip = async () => {
      const files = await R2Bucket("files", { jurisdiction: "eu" });
      await files.put("reports/a.txt", "hello");
      const stored = [...fake.state.r2Buckets.values()].map((b) => [b.jurisdiction, [...b.objects.keys()]]);
      const text = await (await files.get("reports/a.txt"))?.text();
      await files.delete("reports/a.txt");
      return { stored, text };
    };
    const { result } = await deploy(roundTrip);
    expect(result).toEqual({ stored: [["eu", ["reports/a.txt"]]], text: "hello" });
    await deploy(roundTrip, { phase: "destroy" });
    expect(fake.state.r2Buckets.size).toBe(0);
  });

  it("in a jurisdiction are bound to a Worker with that jurisdiction in the upload's binding, which Cloudflare needs to find them", async () => {
    const bound = async () => {
      const files = await R2Bucket("files", { jurisdiction: "eu" });
      const worker = await Worker("backend", { script: "src/backend.js", bindings: { FILES: files } });
      return { files: { ...files }, worker: { ...worker } };
    };
    await deploy(bound);
    const upload = fake.requests.find((r) => r.method === "PUT" && r.path.endsWith("/workers/scripts/app-cf-backend-test"))!;
    expect((upload.parts![0]!.content as { bindings: unknown[] }).bindings).toEqual([
      { type: "r2_bucket", name: "FILES", bucket_name: "app-cf-files-test", jurisdiction: "eu" },
    ]);
    expect(fake.state.workers.get(`${fake.accountId}/app-cf-backend-test`)!.bindings).toEqual([
      { type: "r2_bucket", name: "FILES", bucket_name: "app-cf-files-test", jurisdiction: "eu" },
    ]);
    await deploy(bound, { phase: "destroy" });
    expect(fake.state.workers.size + fake.state.r2Buckets.size).toBe(0);
  });

  it("in a jurisdiction are emptied by a destroy with empty: true, listing their objects in that jurisdiction", async () => {
    await deploy(bucketProgram({ jurisdiction: "eu", empty: true }));
    expect([...fake.state.r2Buckets.values()].map((b) => [b.jurisdiction, [...b.objects.keys()]])).toEqual([["eu", ["reports/a.txt"]]]);
    await deploy(bucketProgram({ jurisdiction: "eu", empty: true }), { phase: "destroy" });
    expect(fake.state.r2Buckets.size).toBe(0);
    expect(await records(dir)).toEqual({});
  });
});

describe("the network", () => {
  it("is reached only at the fake's base URL", async () => {
    await deploy(fullProgram());
    await deploy(fullProgram(), { phase: "destroy" });
    expect(fake.requests.length).toBeGreaterThan(20);
    expect(fake.requests.every((r) => r.path.startsWith(account()))).toBe(true);
    expect(guard.strays).toEqual([]);
    await expect(fetch("https://api.cloudflare.com/client/v4/accounts")).rejects.toThrow(/left the fake Cloudflare API/);
    guard.strays.length = 0;
  });
});

describe("local and remote records of one stage", () => {
  const small = async () => ({ cache: { ...(await KVNamespace("cache")) }, jobs: { ...(await Queue("jobs")) } });

  it("are never taken for each other: a remote deploy makes the cloud resources in place of local records, a local run refuses the remote ones, and a local destroy too", async () => {
    const local = await deploy(small, { local: true });
    expect(local.result.cache.backend).toBe("local");
    expect(fake.requests).toEqual([]);

    // The backend is part of the recorded props: the switch is a change, so the handler runs and makes the cloud resource.
    const remote = await deploy(small);
    expect(remote.result.cache).toMatchObject({ backend: "remote", id: [...fake.state.kvNamespaces.keys()][0] });
    expect(remote.result.jobs).toMatchObject({ backend: "remote", id: [...fake.state.queues.keys()][0] });
    expect(mutations(fake.requests)).toEqual([`POST ${account()}/storage/kv/namespaces`, `POST ${account()}/queues`]);
    expect(Object.values(await records(dir)).map((r) => (r.output as { backend: string }).backend)).toEqual(["remote", "remote"]);

    const before = fake.requests.length;
    const localOver = await deployFailing(small, { local: true });
    expect(localOver.error.message).toContain("app/test/cf/cache is deployed to Cloudflare, and this run is local");
    expect(fake.requests.length).toBe(before);
    expect(Object.values(await records(dir)).map((r) => (r.output as { backend: string }).backend)).toEqual(["remote", "remote"]);

    const mark = fake.requests.length;
    const localDestroy = await deployFailing(small, { phase: "destroy", local: true });
    expect(localDestroy.error.message).toContain("app/test/cf/cache was deployed to Cloudflare, and this run is local");
    expect(localDestroy.error.message).toContain("alchemy destroy, without --local");
    expect(fake.requests.length).toBe(mark);
    expect(Object.keys(await records(dir)).sort()).toEqual(["cache", "jobs"]);

    await deploy(small, { phase: "destroy" });
    expect(fake.state.kvNamespaces.size + fake.state.queues.size).toBe(0);
    expect(await records(dir)).toEqual({});
  });
});
