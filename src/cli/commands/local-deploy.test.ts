/**
 * `alchemy deploy --local` (and plan, destroy) on small programs written here:
 * ports, data removed with its resource, records another backend made, and
 * what a program without Cloudflare resources never loads. Real Miniflare,
 * real HTTP. alchemy dev's session on the Cloudflare example is
 * examples/cloudflare/example.test.ts.
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { runnerEnv } from "../../child-env.test-fixture.js";
import { LOCAL_PERSIST_DIR } from "../../providers/cloudflare/local/local-service.js";
import { hasPersistedData, persistedPaths } from "../../providers/cloudflare/local/persisted-data.js";
import { makeTestProject, runVitest, testResult, errorText, writeProjectFile } from "../../testing/test-scope.test-fixture.js";
import { makeProject, REPO, removeProject, runAlchemy, type CliResult } from "../cli.test-fixture.js";
import { refuses } from "../../providers/cloudflare/local/local-runtime.test-fixture.js";

const projects: string[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  for (const dir of projects.splice(0)) removeProject(dir);
});

const WORKER = `export default { fetch: () => new Response("hello from the worker\\n") };\n`;

/** A project whose alchemy.run.ts runs `body` in application "local-app", with a Worker source at src/worker.ts. */
function project(body: string, files: Record<string, string> = {}): string {
  const dir = makeProject({ "alchemy.run.ts": program(body), "src/worker.ts": WORKER, ...files });
  projects.push(dir);
  return dir;
}

function program(body: string): string {
  return `import alchemy from "alchemy";
import { D1Database, KVNamespace, Queue, R2Bucket, Worker } from "alchemy/cloudflare";
const app = await alchemy("local-app");
${body}
await app.finalize();
`;
}

/** Replaces the program of `dir` with one running `body`. */
function rewrite(dir: string, body: string): void {
  writeFileSync(path.join(dir, "alchemy.run.ts"), program(body));
}

const output = (result: CliResult) => result.stdout + result.stderr;

/** The record of resource `id` (top level of stage "tester", the stage of USER=tester). */
const recordFile = (dir: string, id: string) => path.join(dir, ".alchemy", "local-app", "tester", `${id}.json`);
const readRecord = (dir: string, id: string) => JSON.parse(readFileSync(recordFile(dir, id), "utf8")) as { output: Record<string, unknown> };

/** A TCP server on a loopback port (a free one by default), answering every HTTP request "someone else". */
async function occupyPort(port = 0): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket.on("close", () => sockets.delete(socket)));
    socket.end("HTTP/1.1 200 OK\r\ncontent-length: 12\r\nconnection: close\r\n\r\nsomeone else");
  });
  // Closing waits for open connections: a client's kept-alive one is ended here.
  const close = server.close.bind(server);
  server.close = (callback) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port, exclusive: true }, resolve);
  });
  return (server.address() as net.AddressInfo).port;
}

describe("alchemy deploy --local", () => {
  it("fails naming the Worker and the port when its pinned dev port is in use, and leaves nothing serving", async () => {
    const port = await occupyPort();
    const dir = project(`
const first = await Worker("first", { script: "./src/worker.ts" });
console.log("first: " + first.url);
await Worker("pinned", { script: "./src/worker.ts", dev: { port: ${port} } });
`);
    const result = await runAlchemy(["deploy", "--local"], dir);
    expect(result.code, output(result)).toBe(1);
    expect(result.stdout).toContain("✗ local-app/tester/pinned");
    expect(result.stdout).toMatch(new RegExp(`Worker "[^"]*pinned[^"]*" cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
    expect(result.stdout).toContain("dev: { port }");
    // The port is still the other server's, and the Worker served before the failure stopped with the run.
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("someone else");
    const firstUrl = /^first: (\S+)$/m.exec(result.stdout)![1];
    expect(await refuses(firstUrl)).toBe(true);
  });

  it("serves a Worker whose port of last time is taken on another port, with a warning saying how to pin one", async () => {
    const dir = project(`
const worker = await Worker("sticky", { script: "./src/worker.ts" });
console.log("url: " + worker.url + " answers: " + (await (await worker.fetch("/")).text()).trim());
`);
    const first = await runAlchemy(["deploy", "--local"], dir);
    expect(first.code, output(first)).toBe(0);
    const port = readRecord(dir, "sticky").output.port as number;
    expect(first.stdout).toContain(`url: http://127.0.0.1:${port}/ answers: hello from the worker`);

    // The same port again when it is free,
    const again = await runAlchemy(["deploy", "--local"], dir);
    expect(again.stdout).toContain(`url: http://127.0.0.1:${port}/ answers: hello from the worker`);
    // and another one when someone else took it meanwhile.
    await occupyPort(port);
    const taken = await runAlchemy(["deploy", "--local"], dir);
    expect(taken.code, output(taken)).toBe(0);
    expect(output(taken)).toMatch(new RegExp(`Worker \\S*sticky\\S*: port ${port}, which it had last time, is taken now; it gets another one\\. Pin one with dev: \\{ port \\}\\.`));
    const moved = /^url: http:\/\/127\.0\.0\.1:(\d+)\/ answers: hello from the worker$/m.exec(taken.stdout);
    expect(moved, taken.stdout).not.toBeNull();
    expect(Number(moved![1])).not.toBe(port);
  });

  it("deletes the data of a D1 database removed from the program, and keeps the data of the resources that stay", async () => {
    const dir = project(`
const db = await D1Database("db");
await db.exec("CREATE TABLE IF NOT EXISTS notes (text TEXT); INSERT INTO notes VALUES ('kept?')");
const kv = await KVNamespace("kv");
await kv.put("key", "value");
`);
    const first = await runAlchemy(["deploy", "--local"], dir);
    expect(first.code, output(first)).toBe(0);
    const root = path.join(dir, LOCAL_PERSIST_DIR);
    const database = readRecord(dir, "db").output.id as string;
    const namespace = readRecord(dir, "kv").output.id as string;
    expect(hasPersistedData(root, "d1", database)).toBe(true);
    expect(hasPersistedData(root, "kv", namespace)).toBe(true);

    rewrite(dir, `const kv = await KVNamespace("kv");\nconsole.log("kv holds " + (await kv.get("key")));`);
    const second = await runAlchemy(["deploy", "--local"], dir);
    expect(second.code, output(second)).toBe(0);
    expect(second.stdout).toContain("✓ deleted local-app/tester/db");
    expect(second.stdout).toContain("kv holds value");
    expect(hasPersistedData(root, "d1", database)).toBe(false);
    for (const file of persistedPaths(root, "d1", database)) expect(readdirSync(path.dirname(file))).not.toContain(path.basename(file));
    expect(hasPersistedData(root, "kv", namespace)).toBe(true);
  });

  it("refuses to delete a record a remote run made, saying to delete it with alchemy destroy without --local or to forget it with state rm", async () => {
    const dir = project(`await KVNamespace("kv");\nawait KVNamespace("other");`);
    expect((await runAlchemy(["deploy", "--local"], dir)).code).toBe(0);
    // As if a deploy to Cloudflare had made it.
    const record = JSON.parse(readFileSync(recordFile(dir, "kv"), "utf8"));
    record.output.backend = "remote";
    writeFileSync(recordFile(dir, "kv"), JSON.stringify(record, null, 2));

    rewrite(dir, `await KVNamespace("other");`);
    const orphaned = await runAlchemy(["deploy", "--local"], dir);
    expect(orphaned.code, output(orphaned)).toBe(1);
    const message = "local-app/tester/kv was deployed to Cloudflare, and this run is local: it never calls the Cloudflare API.";
    expect(orphaned.stdout).toContain(message);
    expect(orphaned.stdout).toContain("alchemy destroy, without --local");
    expect(orphaned.stdout).toContain("alchemy state rm local-app/tester/kv");
    expect(readRecord(dir, "kv").output.backend).toBe("remote");

    const destroyed = await runAlchemy(["destroy", "--local", "--force"], dir);
    expect(destroyed.code, output(destroyed)).toBe(1);
    expect(destroyed.stdout).toContain(message);
    expect(readRecord(dir, "kv").output.backend).toBe("remote");
    expect(() => readRecord(dir, "other")).toThrow(/ENOENT/);
  });
});

describe("alchemy plan --local", () => {
  it("finds nothing to change on a stage just deployed locally with every kind of Cloudflare resource", async () => {
    const dir = project(
      `
const db = await D1Database("db", { migrationsDir: "./migrations" });
const kv = await KVNamespace("kv");
const bucket = await R2Bucket("bucket", { empty: true });
const queue = await Queue("queue");
await Worker("consumer", { script: "./src/worker.ts", eventSources: [queue] });
await Worker("api", { script: "./src/worker.ts", bindings: { DB: db, KV: kv, BUCKET: bucket, JOBS: queue, NAME: "api", LIMITS: { max: 3 } } });
`,
      { "migrations/0001_init.sql": "CREATE TABLE t (a TEXT);\n" },
    );
    const deployed = await runAlchemy(["deploy", "--local"], dir);
    expect(deployed.code, output(deployed)).toBe(0);
    expect(deployed.stdout).toMatch(/created 6,/);

    const plan = await runAlchemy(["plan", "--local", "--detailed-exitcode"], dir);
    expect(plan.code, output(plan)).toBe(0);
    expect(plan.stdout).toMatch(/No changes: 6 unchanged/);
  });
});

describe("a deploy without Cloudflare resources", () => {
  /**
   * Runs `alchemy ...args` with a module hook that logs every module of the
   * miniflare or esbuild package imported, with the module importing it, and
   * resolves the packages that alchemy's own sources imported (tsx, which
   * runs the CLI from TypeScript, imports esbuild itself: that one is not
   * alchemy's). Miniflare loaded by anyone, by `require` too, counts.
   */
  async function importsOf(dir: string, args: string[]): Promise<{ result: CliResult; imported: string[] }> {
    const log = path.join(dir, "imports.log");
    writeFileSync(log, "");
    writeFileSync(
      path.join(dir, "import-hooks.mjs"),
      `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const name = /\\/node_modules\\/(miniflare|esbuild)\\//.exec(resolved.url)?.[1];
  if (name) appendFileSync(${JSON.stringify(log)}, name + " " + context.parentURL + "\\n");
  return resolved;
}
`,
    );
    writeFileSync(
      path.join(dir, "record-imports.mjs"),
      `import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
register("./import-hooks.mjs", import.meta.url);
const cache = createRequire(import.meta.url).cache;
process.on("exit", () => {
  for (const file of Object.keys(cache)) if (file.includes("/node_modules/miniflare/")) appendFileSync(${JSON.stringify(log)}, "miniflare required " + file + "\\n");
});
`,
    );
    const hook = `--import=${pathToFileURL(path.join(dir, "record-imports.mjs")).href}`;
    const result = await runAlchemy(args, dir, { NODE_OPTIONS: [runnerEnv().NODE_OPTIONS, hook].filter(Boolean).join(" ") });
    const ours = pathToFileURL(path.join(REPO, "src")).href + "/";
    const imported = readFileSync(log, "utf8")
      .split("\n")
      .filter((line) => line.includes(ours) || line.startsWith("miniflare required "))
      .map((line) => line.split(" ")[0]);
    return { result, imported: [...new Set(imported)].sort() };
  }

  it("never loads miniflare or esbuild, local or not", async () => {
    const dir = makeProject({
      "alchemy.run.ts": `import alchemy from "alchemy";
import { File, Folder } from "alchemy/fs";
const app = await alchemy("files-only");
const out = await Folder("out", { path: "out" });
await File("hello", { folder: out, path: "hello.txt", content: "hello\\n" });
await app.finalize();
`,
    });
    projects.push(dir);
    for (const args of [["deploy"], ["deploy", "--local"], ["destroy", "--local", "--force"]]) {
      const { result, imported } = await importsOf(dir, args);
      expect(result.code, output(result)).toBe(0);
      expect(imported, args.join(" ")).toEqual([]);
    }
    expect(readdirSync(dir)).not.toContain("out");
  });

  it("(the check's control) sees alchemy load both once a Worker is deployed locally", async () => {
    const dir = project(`await Worker("w", { script: "./src/worker.ts" });`);
    const { result, imported } = await importsOf(dir, ["deploy", "--local"]);
    expect(result.code, output(result)).toBe(0);
    expect(imported).toEqual(["esbuild", "miniflare"]);
  });
});

describe("alchemy.test with { local: true }", () => {
  it("runs a D1 database on Miniflare and deletes its data when the test ends", async () => {
    const dir = makeTestProject([]);
    projects.push(dir);
    writeProjectFile(
      dir,
      "local-db.test.ts",
      `import { readdirSync, writeFileSync } from "node:fs";
import alchemy from "alchemy";
import { D1Database } from "alchemy/cloudflare";
import { expect, it } from "vitest";

it("uses a local database", async () => {
  await alchemy.test(import.meta, { local: true }, async () => {
    const db = await D1Database("db");
    await db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hello')");
    expect((await db.query("SELECT text FROM notes")).rows).toEqual([{ text: "hello" }]);
    writeFileSync("world/db-id", db.id);
    writeFileSync("world/d1-files", readdirSync(".alchemy/~local/d1/miniflare-D1DatabaseObject").join("\\n"));
  });
});
`,
    );
    const run = await runVitest(dir, ["local-db.test.ts"]);
    const result = testResult(run, "uses a local database");
    expect(result.state, errorText(result) + run.stdout + run.stderr).toBe("passed");

    const root = path.join(dir, LOCAL_PERSIST_DIR);
    const database = readFileSync(path.join(dir, "world/db-id"), "utf8");
    // While the test ran its data was on disk, where the check below looks;
    const [sqlite] = persistedPaths(root, "d1", database);
    expect(readFileSync(path.join(dir, "world/d1-files"), "utf8").split("\n")).toContain(path.basename(sqlite));
    // after it, none is left.
    expect(hasPersistedData(root, "d1", database)).toBe(false);
  });
});
