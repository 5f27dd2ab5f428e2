/**
 * The Cloudflare example as its user lives with it: it type-checks (program,
 * tests and Workers), and `alchemy dev` serves it on Miniflare over real HTTP
 * through a session of edits (a Worker's source, a syntax error, resources
 * added to and removed from the program), Ctrl-C, a restart and a destroy.
 *
 * The tests run in order on one copy of the example, as one working session
 * does; each `alchemy dev` start costs seconds, so there are two.
 */
import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, makeProject, removeProject, runAlchemy, startAlchemy, type CliResult } from "../../src/cli/cli.test-fixture.js";
import { LOCAL_PERSIST_DIR } from "../../src/providers/cloudflare/local/local-service.js";
import { hasPersistedData, type PersistedKind } from "../../src/providers/cloudflare/local/persisted-data.js";
import { refuses } from "../../src/providers/cloudflare/local/local-runtime.test-fixture.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const APP = "cloudflare-example";
/** The secret binding's value: the api reports its length, and no output may show it. */
const TOKEN = "tok-5c1e9f3a-never-printed";
const ENV = { API_TOKEN: TOKEN };
const TSC = path.join(REPO, "node_modules", "typescript", "bin", "tsc");

/** Polls `probe` until it returns something other than undefined; fails naming `what` after `timeoutMs`. */
async function until<T>(what: string | (() => string), probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 45_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const output = latestDev ? `\nalchemy dev's output (the end):\n${latestDev.output().slice(-4000)}` : "";
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}${last ? ` (last error: ${String(last)})` : ""}${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A request to a local Worker: status and body text. */
async function request(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.text() };
}

/** Polls GET `url` until it answers `body`. */
function servedText(url: string, body: string, timeoutMs?: number): Promise<true> {
  return until(`${url} to answer ${JSON.stringify(body)}`, async () => ((await request(url)).body === body ? true : undefined), timeoutMs, 50);
}

/** A running `alchemy dev`, its output as it comes. */
interface DevSession {
  child: ChildProcess;
  done: Promise<CliResult>;
  output(): string;
}

/** The last dev session started: a test that times out shows its output. */
let latestDev: DevSession | undefined;

function startDev(dir: string): DevSession {
  let output = "";
  const { child, done } = startAlchemy(["dev"], dir, ENV, (text) => (output += text));
  latestDev = { child, done, output: () => output };
  return latestDev;
}

/** Every `Ready:` line in `text`, the last per Worker winning: URL by `<scope>/<id>` (the fqn without app and stage). */
function readyUrls(text: string): Map<string, string> {
  const urls = new Map<string, string>();
  for (const [, fqn, url] of text.matchAll(/^Ready: (\S+) on (\S+)$/gm)) urls.set(fqn.split("/").slice(2).join("/"), url);
  return urls;
}

/** Waits for the three Workers of the example to be ready and for dev to watch; resolves their URLs. */
async function readyExample(dev: DevSession): Promise<Map<string, string>> {
  await until("alchemy dev to serve and watch", () => (/^Watching /m.test(dev.output()) ? true : undefined), 60_000);
  const urls = readyUrls(dev.output());
  expect([...urls.keys()].sort()).toEqual(["api/api-worker", "frontend/site-worker", "jobs/job-worker"]);
  return urls;
}

/** Whether a process is gone (a zombie nobody reaped counts as gone). */
function processGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? true;
  } catch {
    return true;
  }
}

/** Stops a dev session that a failed test left running: Ctrl-C, then SIGKILL for it and its children. */
async function stopDev(dev: DevSession | undefined): Promise<void> {
  if (!dev || dev.child.exitCode !== null || dev.child.signalCode !== null) return;
  const children = childPids(dev.child.pid!);
  dev.child.kill("SIGINT");
  const ended = await Promise.race([dev.done.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000))]);
  if (!ended) for (const pid of [dev.child.pid!, ...children]) if (!processGone(pid)) process.kill(pid, "SIGKILL");
}

function childPids(pid: number): number[] {
  return spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).map(Number);
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe("the Cloudflare example", () => {
  let dir = "";
  let stage = "";
  let dev: DevSession | undefined;
  /** The Workers' URLs of the first session, after every edit. */
  let firstUrls = new Map<string, string>();
  const file = (name: string) => path.join(dir, name);
  const record = (fqnTail: string) => JSON.parse(readFileSync(file(`.alchemy/${APP}/${stage}/${fqnTail}.json`), "utf8")) as { output: Record<string, string> };

  beforeAll(() => {
    dir = makeProject({});
    cpSync(here, dir, { recursive: true, filter: (source) => !/[/\\](node_modules|\.alchemy|example\.test\.ts)$/.test(source) });
    for (const types of ["@types", "@cloudflare"]) symlinkSync(path.join(REPO, "node_modules", types), path.join(dir, "node_modules", types), "dir");
    symlinkSync(path.join(REPO, "node_modules", "vitest"), path.join(dir, "node_modules", "vitest"), "dir");
  });
  afterAll(async () => {
    await stopDev(dev);
    removeProject(dir);
  });

  // The repository's own type-check skips these: the example is a project of its own, where "alchemy" is a dependency.
  it("type-checks its program and tests with its tsconfig.json, against this checkout's sources", () => {
    const checked = spawnSync(process.execPath, [TSC, "-p", dir, "--customConditions", "source"], { encoding: "utf8" });
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
  });

  it("type-checks its Workers with src/tsconfig.json against @cloudflare/workers-types", () => {
    const checked = spawnSync(process.execPath, [TSC, "-p", file("src")], { encoding: "utf8" });
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
  });

  it("serves its three Workers under alchemy dev: the api answers from D1, KV and its vars, the secret never printed", async () => {
    dev = startDev(dir);
    firstUrls = await readyExample(dev);
    stage = /^Ready: [^/]+\/([^/]+)\//m.exec(dev.output())![1];
    const api = firstUrls.get("api/api-worker")!;

    expect(await request(api)).toEqual({ status: 200, body: "hello from the api\n" });
    expect(JSON.parse((await request(new URL("users", api).href)).body)).toEqual([{ id: 1, name: "ada" }]);
    const added = await request(new URL("users", api).href, { method: "POST", body: JSON.stringify({ name: "grace" }) });
    expect(added.status).toBe(201);
    expect(JSON.parse(added.body)).toEqual({ id: 2, name: "grace" });
    expect(JSON.parse((await request(new URL("users", api).href)).body)).toEqual([{ id: 1, name: "ada" }, { id: 2, name: "grace" }]);

    expect((await request(new URL("cache/colour", api).href)).status).toBe(404);
    expect((await request(new URL("cache/colour", api).href, { method: "PUT", body: "teal" })).status).toBe(204);
    expect(await request(new URL("cache/colour", api).href)).toEqual({ status: 200, body: "teal" });

    expect(JSON.parse((await request(new URL("config", api).href)).body)).toEqual({ limits: { pageSize: 20 }, tokenLength: TOKEN.length });
    expect(dev.output()).not.toContain(TOKEN);
  });

  it("runs a job through the queue: the jobs Worker consumes it and writes its result to KV, which the api reads", async () => {
    const job = new URL("jobs/j1", firstUrls.get("api/api-worker")!).href;
    expect((await request(job, { method: "POST", body: "resize" })).status).toBe(202);
    await servedText(job, "done: resize", 30_000);
  });

  it("serves a file uploaded to the site Worker's R2 bucket", async () => {
    const page = new URL("index.html", firstUrls.get("frontend/site-worker")!).href;
    expect((await request(page)).status).toBe(404);
    expect((await request(page, { method: "PUT", body: "<h1>example</h1>" })).status).toBe(204);
    expect(await request(page)).toEqual({ status: 200, body: "<h1>example</h1>" });
  });

  it("serves an edit of the api's source on the same URL, the other Workers where they were", async ({ annotate }) => {
    const api = firstUrls.get("api/api-worker")!;
    const mark = dev!.output().length;
    const source = readFileSync(file("src/api/index.ts"), "utf8");
    expect(source).toContain("from the api\\n");
    const saved = performance.now();
    writeFileSync(file("src/api/index.ts"), source.replace("from the api\\n", "from the edited api\\n"));
    await servedText(api, "hello from the edited api\n");
    const took = Math.round(performance.now() - saved);
    // Printed, not asserted: how fast is the machine's business, not the test's.
    process.stderr.write(`alchemy dev: the api served the edit ${took} ms after the save\n`);
    await annotate(`edit to response: ${took} ms`);

    expect(dev!.output().slice(mark)).toMatch(/updated \S+\/api\/api-worker/);
    expect(readyUrls(dev!.output())).toEqual(firstUrls);
    expect(await request(new URL("index.html", firstUrls.get("frontend/site-worker")!).href)).toEqual({ status: 200, body: "<h1>example</h1>" });
  });

  it("keeps serving the last good version while a file the api imports has a syntax error, naming it with line:column; serves the fix", async () => {
    const api = firstUrls.get("api/api-worker")!;
    writeFileSync(file("src/api/greeting.ts"), "export const greeting = (word: string): string => `${word} from the imported api\\n`;\n");
    const source = readFileSync(file("src/api/index.ts"), "utf8");
    writeFileSync(
      file("src/api/index.ts"),
      `import { greeting } from "./greeting";\n` + source.replace("new Response(`${env.GREETING} from the edited api\\n`)", "new Response(greeting(env.GREETING))"),
    );
    await servedText(api, "hello from the imported api\n");

    const mark = dev!.output().length;
    const broken = "export const greeting = (word: string): string =>\n  `${word} from the broken api\\n` +;\n";
    writeFileSync(file("src/api/greeting.ts"), broken);
    const line = broken.split("\n")[1];
    const where = `src/api/greeting.ts:2:${line.indexOf(";") + 1}`;
    await until(`dev to report the syntax error at ${where}`, () => (/The run failed/.test(dev!.output().slice(mark)) ? true : undefined));
    expect(dev!.output().slice(mark)).toContain(where);
    expect(await request(api)).toEqual({ status: 200, body: "hello from the imported api\n" });

    writeFileSync(file("src/api/greeting.ts"), "export const greeting = (word: string): string => `${word} from the fixed api\\n`;\n");
    await servedText(api, "hello from the fixed api\n");
    expect(readyUrls(dev!.output())).toEqual(firstUrls);
  });

  it("serves a KV namespace and a Worker added to alchemy.run.ts; removing them stops the Worker and deletes the namespace's data", async () => {
    const program = readFileSync(file("alchemy.run.ts"), "utf8");
    mkdirSync(file("src/notes"));
    writeFileSync(
      file("src/notes/index.ts"),
      `export default {
  async fetch(request: Request, env: { NOTES: KVNamespace }): Promise<Response> {
    const key = new URL(request.url).pathname.slice(1);
    if (request.method === "PUT") await env.NOTES.put(key, await request.text());
    return new Response(await env.NOTES.get(key));
  },
};
`,
    );
    const added = `await alchemy.run("extra", async () => {
  const notes = await KVNamespace("notes");
  await Worker("notes-worker", { script: "./src/notes/index.ts", bindings: { NOTES: notes } });
});

await app.finalize();`;
    expect(program).toContain("\nawait app.finalize();");
    writeFileSync(file("alchemy.run.ts"), program.replace("await app.finalize();", added));

    const notesUrl = await until("a Ready line for extra/notes-worker", () => readyUrls(dev!.output()).get("extra/notes-worker"));
    const note = new URL("todo", notesUrl).href;
    expect(await request(note, { method: "PUT", body: "buy milk" })).toEqual({ status: 200, body: "buy milk" });
    const persistRoot = file(LOCAL_PERSIST_DIR);
    const namespaceId = record("extra/notes").output.id;
    expect(hasPersistedData(persistRoot, "kv", namespaceId)).toBe(true);

    const mark = dev!.output().length;
    writeFileSync(file("alchemy.run.ts"), program);
    await until(`${notesUrl} to stop answering`, async () => ((await refuses(note)) ? true : undefined));
    await until("the deletions to be reported", () => (/deleted 2,/.test(dev!.output().slice(mark)) ? true : undefined));
    expect(dev!.output().slice(mark)).toMatch(/deleted \S+\/extra\/notes-worker/);
    expect(dev!.output().slice(mark)).toMatch(/deleted \S+\/extra\/notes\b/);
    expect(hasPersistedData(persistRoot, "kv", namespaceId)).toBe(false);
    expect(existsSync(file(`.alchemy/${APP}/${stage}/extra/notes.json`))).toBe(false);
    // The example's own Workers stayed where they were.
    const { "extra/notes-worker": _gone, ...rest } = Object.fromEntries(readyUrls(dev!.output()));
    expect(new Map(Object.entries(rest))).toEqual(firstUrls);
    expect(await request(firstUrls.get("api/api-worker")!)).toEqual({ status: 200, body: "hello from the fixed api\n" });
  });

  it("stops on Ctrl-C with exit 0, leaving no child process and the stage unlocked", async () => {
    const session = dev!;
    const children = childPids(session.child.pid!);
    expect(children.length).toBeGreaterThan(0); // workerd, esbuild
    session.child.kill("SIGINT");
    const stopped = await session.done;
    expect(stopped.code, session.output()).toBe(0);
    expect(session.output()).toMatch(/Stopped: the local runtime is shut down\.\n$/);
    expect(session.output()).not.toContain(TOKEN);
    await until(`the children of alchemy dev (${children.join(", ")}) to exit`, () => (children.every(processGone) ? true : undefined), 10_000);
    for (const url of firstUrls.values()) expect(await refuses(url)).toBe(true);

    // Without --lock-timeout a locked stage fails at once: this deploy succeeding means dev released the lock.
    const deployed = await runAlchemy(["deploy", "--local"], dir, ENV);
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    expect(deployed.stdout).toMatch(/No changes: 8 unchanged/);
  });

  it("serves every Worker on the port it had when dev starts again, with the data of the last session", async () => {
    dev = startDev(dir);
    expect(await readyExample(dev)).toEqual(firstUrls);
    const api = firstUrls.get("api/api-worker")!;
    expect(JSON.parse((await request(new URL("users", api).href)).body)).toEqual([{ id: 1, name: "ada" }, { id: 2, name: "grace" }]);
    expect(await request(new URL("cache/colour", api).href)).toEqual({ status: 200, body: "teal" });
    expect(await request(new URL("jobs/j1", api).href)).toEqual({ status: 200, body: "done: resize" });
    expect(await request(new URL("index.html", firstUrls.get("frontend/site-worker")!).href)).toEqual({ status: 200, body: "<h1>example</h1>" });
    expect(await request(api)).toEqual({ status: 200, body: "hello from the fixed api\n" });

    dev.child.kill("SIGINT");
    expect((await dev.done).code).toBe(0);
  });

  it("is destroyed by alchemy destroy --local --force: no record left, and none of its D1, KV or R2 data", async () => {
    const data: [PersistedKind, string][] = [
      ["d1", record("api/api-db").output.id],
      ["kv", record("api/api-cache").output.id],
      ["kv", record("jobs/job-results").output.id],
      ["r2", record("frontend/site-assets").output.name],
    ];
    const persistRoot = file(LOCAL_PERSIST_DIR);
    for (const [kind, id] of data) expect(hasPersistedData(persistRoot, kind, id), `${kind} ${id}`).toBe(true);

    const destroyed = await runAlchemy(["destroy", "--local", "--force"], dir, ENV);
    expect(destroyed.code, destroyed.stdout + destroyed.stderr).toBe(0);
    expect(destroyed.stdout).toMatch(/deleted 8,/);
    expect(destroyed.stdout + destroyed.stderr).not.toContain(TOKEN);

    expect(filesUnder(file(`.alchemy/${APP}`)).filter((name) => !path.basename(name).startsWith("~"))).toEqual([]);
    for (const [kind, id] of data) expect(hasPersistedData(persistRoot, kind, id), `${kind} ${id}`).toBe(false);
    // What is left is Miniflare's own bookkeeping, one metadata database per kind.
    for (const kind of ["d1", "kv", "r2"]) {
      for (const name of filesUnder(path.join(persistRoot, kind))) expect(name).toMatch(/^miniflare-\w+Object\/metadata\.sqlite(-wal|-shm)?$/);
    }
  });
});
