/**
 * Drift of Cloudflare resources deployed through the API: `plan --refresh`,
 * `deploy --refresh` and `alchemy refresh` against the fake Cloudflare API.
 * A change "in the dashboard" is made through the fake's own documented
 * routes (rename a KV namespace, update a queue, patch a Worker's settings,
 * remove a queue consumer). The fake proves our client against Cloudflare's
 * documented contract, not the cloud: what the real API returns after such a
 * change is only as good as the fake's reading of that contract.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import alchemy, { type Drift } from "alchemy";
import { KVNamespace, Queue, Worker } from "alchemy/cloudflare";
import { driftLines } from "../../../cli/report/format.js";
import { call, inAccount } from "./fake/fake-client.test-fixture.js";
import { startFakeCloudflare, type FakeCloudflare } from "./fake/fake-cloudflare.test-fixture.js";
import { guardFetch, mutations, project, records, runApp, type RunAppOptions, type RunReport } from "./remote-deploy.test-fixture.js";

let fake: FakeCloudflare;
let guard: ReturnType<typeof guardFetch>;
let dir: string;
let removeDir: () => void;

beforeAll(async () => {
  fake = await startFakeCloudflare();
  // Installed before any run builds its API client, which keeps the fetch it finds.
  guard = guardFetch(() => [fake.baseUrl]);
});
afterAll(async () => {
  guard.restore();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  ({ dir, remove: removeDir } = project());
});
afterEach(() => {
  removeDir();
  expect(guard.strays).toEqual([]);
});

const account = () => `/accounts/${fake.accountId}`;

/** Runs `program` against the fake, collecting the drift it reports (in sync left out); the run must succeed. */
async function run<T>(program: () => Promise<T>, options: RunAppOptions = {}): Promise<RunReport<T> & { result: T; drift: Drift[]; lines: string[] }> {
  const drift: Drift[] = [];
  const report = await runApp(fake, dir, program, { ...options, onDrift: (d) => void (d.status !== "in-sync" && drift.push(d)) });
  if (report.error !== undefined) throw report.error;
  // As alchemy plan --refresh prints them, colours left out.
  const lines = drift.flatMap((d) => driftLines(d)).map((line) => line.replace(/\x1b\[[0-9;]*m/g, ""));
  return { ...(report as RunReport<T> & { result: T }), drift, lines };
}

/** `action fqn` of every resource a run changed or would change. */
const changed = (report: RunReport<unknown>) => report.events.filter((e) => e.action !== "noop").map((e) => `${e.action} ${e.fqn}`);

/** What an edit in the dashboard sends: a call to the fake's documented route, which must succeed. */
async function dashboard(method: string, suffix: string, init: Parameters<typeof call>[3] = {}): Promise<void> {
  const res = await call(fake, method, inAccount(fake, suffix), init);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** A Worker settings patch as the dashboard sends it: multipart, the settings as a JSON part. */
function settingsPatch(settings: unknown): FormData {
  const form = new FormData();
  form.set("settings", new Blob([JSON.stringify(settings)], { type: "application/json" }), "settings.json");
  return form;
}

describe("a KV namespace renamed in the API (against the fake Cloudflare API)", () => {
  const program = async () => ({ cache: { ...(await KVNamespace("cache")) } });

  it("plan --refresh reports its title as drifted and plans the rename back; deploy --refresh renames it back with one PUT", async () => {
    const { result } = await run(program);
    await dashboard("PUT", `/storage/kv/namespaces/${result.cache.id}`, { json: { title: "renamed-by-hand" } });

    const mark = fake.requests.length;
    const planned = await run(program, { phase: "plan", refresh: true });
    expect(planned.lines).toEqual(['! drifted app/test/cf/cache  title: (none) -> "renamed-by-hand"']);
    expect(changed(planned)).toEqual(["update app/test/cf/cache"]);
    expect(mutations(fake.requests.slice(mark))).toEqual([]);

    const deployMark = fake.requests.length;
    const deployed = await run(program, { refresh: true });
    expect(changed(deployed)).toEqual(["update app/test/cf/cache"]);
    expect(mutations(fake.requests.slice(deployMark))).toEqual([`PUT ${account()}/storage/kv/namespaces/${result.cache.id}`]);
    expect(fake.state.kvNamespaces.get(result.cache.id)!.title).toBe("app-cf-cache-test");
    expect(deployed.result.cache).toEqual(result.cache);

    const again = await run(program, { phase: "plan", refresh: true });
    expect([again.drift, changed(again)]).toEqual([[], []]);
  });

  it("alchemy refresh records the title found and changes nothing; the next plain deploy renames it back", async () => {
    const { result } = await run(program);
    await dashboard("PUT", `/storage/kv/namespaces/${result.cache.id}`, { json: { title: "renamed-by-hand" } });

    const mark = fake.requests.length;
    const refreshed = await run(program, { phase: "refresh" });
    expect(refreshed.drift.map((d) => `${d.status} ${d.fqn}`)).toEqual(["drifted app/test/cf/cache"]);
    expect(mutations(fake.requests.slice(mark))).toEqual([]);
    const record = (await records(dir)).cache!;
    expect([record.props, record.output]).toEqual([
      { backend: "remote", title: "renamed-by-hand" },
      { id: result.cache.id, title: "renamed-by-hand", backend: "remote" },
    ]);

    const deployed = await run(program);
    expect(changed(deployed)).toEqual(["update app/test/cf/cache"]);
    expect(fake.state.kvNamespaces.get(result.cache.id)!.title).toBe("app-cf-cache-test");
  });
});

describe("a Worker's settings edited in the dashboard (against the fake Cloudflare API)", () => {
  const SECRET = "s3cr3t-binding-value";
  const program = async () => {
    const cache = await KVNamespace("cache");
    const jobs = await Queue("jobs");
    const api = await Worker("api", {
      script: "src/api.js",
      compatibilityFlags: ["nodejs_compat"],
      bindings: { CACHE: cache, JOBS: jobs, GREETING: "hello", LIMITS: { perMinute: 60 }, TOKEN: alchemy.secret(SECRET) },
      eventSources: [{ queue: jobs, settings: { batchSize: 1 } }],
    });
    return { cache: { ...cache }, jobs: { ...jobs }, api: { ...api } };
  };
  const script = () => fake.state.workers.get(`${fake.accountId}/app-cf-api-test`)!;

  it("plan --refresh reports the compatibility date and flags and the bindings as found; deploy --refresh uploads the Worker again, and it is in sync", async () => {
    await run(program);
    const inSync = await run(program, { phase: "plan", refresh: true });
    expect([inSync.drift, changed(inSync)]).toEqual([[], []]);

    await dashboard("PATCH", "/workers/scripts/app-cf-api-test/settings", {
      body: settingsPatch({
        compatibility_date: "2025-01-01",
        compatibility_flags: [],
        bindings: [
          { type: "inherit", name: "CACHE" },
          { type: "inherit", name: "JOBS" },
          { type: "plain_text", name: "GREETING", text: "edited by hand" },
          { type: "plain_text", name: "EXTRA", text: "added by hand" },
          { type: "inherit", name: "TOKEN" },
        ],
      }),
    });
    const mark = fake.requests.length;
    const planned = await run(program, { phase: "plan", refresh: true });
    expect(planned.drift).toEqual([
      expect.objectContaining({
        fqn: "app/test/cf/api",
        status: "drifted",
        changes: [
          { path: "compatibilityFlags[0]", before: "nodejs_compat", after: undefined },
          { path: "bindings.GREETING", before: "hello", after: "edited by hand" },
          { path: "bindings.LIMITS", before: { perMinute: 60 }, after: undefined },
          { path: "bindings.EXTRA", before: undefined, after: "added by hand" },
          { path: "compatibilityDate", before: undefined, after: "2025-01-01" },
        ],
      }),
    ]);
    expect(planned.lines[0]).toMatch(/^! drifted app\/test\/cf\/api {2}compatibilityFlags\[0\]: "nodejs_compat" -> \(none\), bindings\.GREETING: "hello" -> "edited by hand", /);
    expect(changed(planned)).toEqual(["update app/test/cf/api"]);
    expect(mutations(fake.requests.slice(mark))).toEqual([]);

    const deployMark = fake.requests.length;
    const deployed = await run(program, { refresh: true });
    expect(changed(deployed)).toEqual(["update app/test/cf/api"]);
    expect(mutations(fake.requests.slice(deployMark))).toEqual([`PUT ${account()}/workers/scripts/app-cf-api-test`]);
    expect([script().compatibilityDate, script().compatibilityFlags]).toEqual(["2026-04-26", ["nodejs_compat"]]);
    expect(script().bindings.map((b) => b.name)).toEqual(["CACHE", "GREETING", "JOBS", "LIMITS", "TOKEN"]);
    expect(script().bindings.find((b) => b.name === "GREETING")).toEqual({ type: "plain_text", name: "GREETING", text: "hello" });

    const again = await run(program, { phase: "plan", refresh: true });
    expect([again.drift, changed(again)]).toEqual([[], []]);
    expect(JSON.stringify([planned.drift, planned.events, deployed.events])).not.toContain(SECRET);
  });

  it("finds a binding pointed at another namespace and a secret removed, which the API reports though it never returns a secret's text", async () => {
    const { result } = await run(program);
    const other = await call(fake, "POST", inAccount(fake, "/storage/kv/namespaces"), { json: { title: "someone-elses" } });
    await dashboard("PATCH", "/workers/scripts/app-cf-api-test/settings", {
      body: settingsPatch({
        bindings: [
          { type: "kv_namespace", name: "CACHE", namespace_id: other.body.result.id },
          { type: "inherit", name: "JOBS" },
          { type: "inherit", name: "GREETING" },
          { type: "inherit", name: "LIMITS" },
        ],
      }),
    });
    const planned = await run(program, { phase: "plan", refresh: true });
    expect(planned.lines).toEqual([
      `! drifted app/test/cf/api  bindings.CACHE.id: "${result.cache.id}" -> "${other.body.result.id}", bindings.TOKEN: "[secret]" -> (none)`,
    ]);

    await run(program, { refresh: true });
    expect(script().bindings.find((b) => b.name === "TOKEN")).toEqual({ type: "secret_text", name: "TOKEN", text: SECRET });
  });

  it("finds its queue consumer removed, or its settings changed, and deploy --refresh makes the consumer again with the program's settings", async () => {
    const { result } = await run(program);
    const consumers = () => fake.state.queues.get(result.jobs.id)!.consumers;
    const consumerPath = () => `/queues/${result.jobs.id}/consumers/${consumers()[0]!.consumerId}`;

    await dashboard("DELETE", consumerPath());
    const removed = await run(program, { phase: "plan", refresh: true });
    expect(removed.drift.map((d) => d.changes?.map((c) => c.path))).toEqual([["eventSources[0]"]]);
    await run(program, { refresh: true });
    expect(consumers().map((c) => [c.scriptName, c.settings.batch_size])).toEqual([["app-cf-api-test", 1]]);

    await dashboard("DELETE", consumerPath());
    await dashboard("POST", `/queues/${result.jobs.id}/consumers`, { json: { script_name: "app-cf-api-test", type: "worker", settings: { batch_size: 50, max_retries: 7 } } });
    const edited = await run(program, { phase: "plan", refresh: true });
    expect(edited.drift[0]!.changes).toEqual([
      { path: "eventSources[0].settings.batchSize", before: 1, after: 50 },
      { path: "eventSources[0].settings.maxRetries", before: undefined, after: 7 },
    ]);
    await run(program, { refresh: true });
    expect(consumers().map((c) => [c.settings.batch_size, c.settings.max_retries])).toEqual([[1, 3]]);
    expect((await run(program, { phase: "plan", refresh: true })).drift).toEqual([]);
  });
});

describe("a Worker's workers.dev route switched in the dashboard (against the fake Cloudflare API)", () => {
  const program = (url?: boolean) => async () => ({ ...(await Worker("backend", { script: "src/backend.js", ...(url === undefined ? {} : { url }) })) });
  const route = "/workers/scripts/app-cf-backend-test/subdomain";
  const enabled = () => fake.state.workers.get(`${fake.accountId}/app-cf-backend-test`)!.subdomainEnabled;

  it("plan --refresh reports a route turned off as url and the url output gone; deploy --refresh turns it on again with one POST", async () => {
    const { result } = await run(program());
    await dashboard("POST", route, { json: { enabled: false } });

    const mark = fake.requests.length;
    const planned = await run(program(), { phase: "plan", refresh: true });
    expect(planned.drift).toEqual([
      expect.objectContaining({
        fqn: "app/test/cf/backend",
        status: "drifted",
        changes: [{ path: "url", before: undefined, after: false }],
        outputChanges: [{ path: "url", before: result.url, after: undefined }],
      }),
    ]);
    expect(planned.lines).toEqual(["! drifted app/test/cf/backend  url: (none) -> false"]);
    expect(changed(planned)).toEqual(["update app/test/cf/backend"]);
    expect(mutations(fake.requests.slice(mark))).toEqual([]);

    const deployMark = fake.requests.length;
    const deployed = await run(program(), { refresh: true });
    expect(mutations(fake.requests.slice(deployMark))).toEqual([`PUT ${account()}/workers/scripts/app-cf-backend-test`, `POST ${account()}${route}`]);
    expect([enabled(), deployed.result.url]).toEqual([true, result.url]);
    expect((await run(program(), { phase: "plan", refresh: true })).drift).toEqual([]);
  });

  it("alchemy refresh records a route turned on for a Worker with url: false, with its url; the next plain deploy turns it off", async () => {
    await run(program(false));
    await dashboard("POST", route, { json: { enabled: true } });

    const refreshed = await run(program(false), { phase: "refresh" });
    expect(refreshed.drift.map((d) => d.changes)).toEqual([[{ path: "url", before: false, after: true }]]);
    const record = (await records(dir)).backend!;
    expect([(record.props as { url?: boolean }).url, (record.output as { url?: string }).url]).toEqual([true, "https://app-cf-backend-test.fake-account.workers.dev/"]);

    const deployed = await run(program(false));
    expect(changed(deployed)).toEqual(["update app/test/cf/backend"]);
    expect([enabled(), deployed.result.url]).toEqual([false, undefined]);
  });
});

describe("a Queue renamed in the API (against the fake Cloudflare API)", () => {
  const program = async () => {
    const jobs = await Queue("jobs");
    const worker = await Worker("backend", { script: "src/backend.js", bindings: { JOBS: jobs }, eventSources: [jobs] });
    return { jobs: { ...jobs }, worker: { ...worker } };
  };

  it("plan --refresh reports its name as drifted and plans a replacement (another name is another queue); deploy --refresh makes the program's queue and deletes the renamed one", async () => {
    const { result } = await run(program);
    await dashboard("PUT", `/queues/${result.jobs.id}`, { json: { queue_name: "renamed-by-hand" } });

    const planned = await run(program, { phase: "plan", refresh: true });
    expect(planned.lines).toEqual(['! drifted app/test/cf/jobs  name: (none) -> "renamed-by-hand"']);
    expect(changed(planned)).toEqual(["replace app/test/cf/jobs", "delete app/test/cf/jobs", "update app/test/cf/backend"]);

    const deployed = await run(program, { refresh: true });
    expect([...fake.state.queues.values()].map((q) => [q.name, q.consumers.map((c) => c.scriptName)])).toEqual([["app-cf-jobs-test", ["app-cf-backend-test"]]]);
    expect(deployed.result.jobs.id).not.toBe(result.jobs.id);
    expect((await run(program, { phase: "plan", refresh: true })).drift).toEqual([]);
  });
});

describe("gone from the API (against the fake Cloudflare API)", () => {
  const small = async () => ({ cache: { ...(await KVNamespace("cache")) }, worker: { ...(await Worker("backend", { script: "src/backend.js" })) } });

  it("a KV namespace deleted behind alchemy's back: plan --refresh plans it, deploy --refresh makes it again, the Worker untouched", async () => {
    await run(small);
    fake.state.kvNamespaces.clear();

    const mark = fake.requests.length;
    const planned = await run(small, { phase: "plan", refresh: true });
    expect(planned.drift.map((d) => `${d.status} ${d.fqn}`)).toEqual(["gone app/test/cf/cache"]);
    expect(changed(planned)).toEqual(["create app/test/cf/cache"]);
    expect(mutations(fake.requests.slice(mark))).toEqual([]);

    const deployed = await run(small, { refresh: true });
    expect([...fake.state.kvNamespaces.keys()]).toEqual([deployed.result.cache.id]);
    expect(changed(deployed)).toEqual(["create app/test/cf/cache"]);
  });

  it("alchemy refresh removes the record of what is gone and changes nothing in the account", async () => {
    await run(small);
    fake.state.kvNamespaces.clear();
    const mark = fake.requests.length;
    await run(small, { phase: "refresh" });
    expect(mutations(fake.requests.slice(mark))).toEqual([]);
    expect(Object.keys(await records(dir)).sort()).toEqual(["backend"]);
  });
});
