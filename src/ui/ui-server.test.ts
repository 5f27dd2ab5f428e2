import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { makeProject, REPO, runAlchemy, startAlchemy } from "../cli/cli.test-fixture.js";
import { persistentStoreUrls } from "../state/store-urls.test-fixture.js";
import { cleanUpAfterEach, deployedShop, SECRET_VALUE, SHOP_DEPENDENCIES, SHOP_FQNS, shopEnv, shopProgram, startUi } from "./ui.test-fixture.js";

cleanUpAfterEach();
/** Drops the PostgreSQL schemas the store URLs made. */
const cleanups: Array<() => unknown> = [];
afterAll(async () => void (await Promise.all(cleanups.splice(0).map((c) => c()))));

describe.each(persistentStoreUrls("alchemy_ui", cleanups))("alchemy ui on %s", (_name, url) => {
  it("answers the overview, the stage, a resource and the history of a deployed stage", async () => {
    const state = await url();
    const { dir } = await deployedShop(state);
    const ui = await startUi(dir, state);

    const overview = await await json(ui.get("/api/overview"));
    expect(overview.apps).toHaveLength(1);
    expect(overview.apps[0].stages).toEqual([expect.objectContaining({ stage: "dev", resources: SHOP_FQNS.length, lock: null, lastDeploy: expect.objectContaining({ ok: true }) })]);

    const stage = await await json(ui.get("/api/stage?app=shop&stage=dev"));
    expect(stage.nodes.map((n: { fqn: string }) => n.fqn)).toEqual(SHOP_FQNS);
    expect(stage.edges).toHaveLength(SHOP_DEPENDENCIES);
    expect(stage.scopes.map((s: { path: string; kind: string }) => `${s.path} ${s.kind}`)).toEqual(["shop/dev stage", "shop/dev/backend nested", "shop/dev/cluster resource"]);
    expect(stage.lock).toBeNull();

    const api = await await json(ui.get("/api/resource?fqn=shop/dev/backend/api"));
    expect(api).toMatchObject({ kind: "shop::Part", status: "created", dependents: ["shop/dev/backend/worker"] });
    expect(api.dependencies).toEqual([{ fqn: "shop/dev/db", missing: false }, { fqn: "shop/dev/vault", missing: false }]);
    expect(api.history).toEqual([expect.objectContaining({ command: "deploy", outcome: "ok" })]);

    const history = await await json(ui.get("/api/history?app=shop&stage=dev"));
    expect(history.entries).toHaveLength(1);
    expect(history.entries[0].resources.map((r: { fqn: string; action: string }) => `${r.action} ${r.fqn}`).sort()).toEqual(SHOP_FQNS.map((f) => `create ${f}`).sort());

    const graph = await await json(ui.get("/api/graph?app=shop&stage=dev"));
    expect([graph.nodes, graph.edges]).toEqual([SHOP_FQNS.length, SHOP_DEPENDENCIES]);
    expect(graph.svg.match(/<g class="node[^"]*" data-fqn=/g)).toHaveLength(SHOP_FQNS.length);
  });

  it("tells a watching page when a deploy in another process changes the stage", async () => {
    const state = await url();
    const { dir } = await deployedShop(state);
    const ui = await startUi(dir, state);
    const events = await openEvents(ui.port, `/api/events?app=shop&stage=dev&token=${ui.token}`);
    onTestFinished(() => events.close());
    await events.waitFor(": watching");
    writeFileSync(path.join(dir, "alchemy.run.ts"), shopProgram(`await Part("cache", { uses: [db] });`));
    const deploy = await runAlchemy(["deploy"], dir, shopEnv(state));
    expect(deploy.code, deploy.stderr).toBe(0);
    await events.waitFor("event: change");
    const stage = await await json(ui.get("/api/stage?app=shop&stage=dev"));
    expect(stage.nodes.map((n: { fqn: string }) => n.fqn)).toContain("shop/dev/cache");
  });
});

describe("alchemy ui, its guard and its secrets", () => {
  it("refuses a request without the token, with a wrong one, or naming another host, and answers GET only", async () => {
    const { dir } = await deployedShop("file:.alchemy");
    const ui = await startUi(dir, "file:.alchemy");
    const noToken = await fetch(`http://127.0.0.1:${ui.port}/api/overview`);
    expect(noToken.status).toBe(403);
    expect((await json(noToken)).error).toMatch(/needs the token of the URL it printed/);
    for (const path of ["/", "/api/stage?app=shop&stage=dev", "/api/resource?fqn=shop/dev/vault", "/api/events"]) {
      const res = await fetch(`http://127.0.0.1:${ui.port}${path}${path.includes("?") ? "&" : "?"}token=${ui.token.slice(0, -1)}x`);
      expect(res.status, path).toBe(403);
      expect(await res.text()).not.toContain("shop/dev");
    }
    const rebound = await rawGet(ui.port, `/api/overview?token=${ui.token}`, "attacker.example:80");
    expect(rebound.status).toBe(403);
    expect(rebound.body).toMatch(/answers only to http:\/\/127\.0\.0\.1:/);
    const post = await fetch(`http://127.0.0.1:${ui.port}/api/overview`, { method: "POST", headers: { "x-alchemy-token": ui.token } });
    expect(post.status).toBe(405);
    const page = await fetch(ui.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'nonce-/);
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
  });

  it("never sends a secret's value or its ciphertext, in any view", async () => {
    const { dir } = await deployedShop("file:.alchemy");
    const sealed = sealedStrings(JSON.parse(readFileSync(path.join(dir, ".alchemy/shop/dev/vault.json"), "utf8")));
    expect(sealed.length).toBeGreaterThan(0);
    const ui = await startUi(dir, "file:.alchemy");
    const bodies = [];
    for (const p of ["/", "/api/overview", "/api/stage?app=shop&stage=dev", "/api/graph?app=shop&stage=dev", "/api/history?app=shop&stage=dev"]) bodies.push(await (await ui.get(p)).text());
    for (const fqn of SHOP_FQNS) bodies.push(await (await ui.get(`/api/resource?fqn=${fqn}`)).text());
    const all = bodies.join("\n");
    expect(all).not.toContain(SECRET_VALUE);
    for (const text of sealed) expect(all).not.toContain(text);
    const vault = await await json(ui.get("/api/resource?fqn=shop/dev/vault"));
    expect(vault.props).toEqual({ key: "[secret]" });
    expect(vault.output).toEqual({ name: "vault", key: "[secret]" });
  });

  it("reads only: the state directory is byte-identical after every view and a watch", async () => {
    const { dir } = await deployedShop("file:.alchemy");
    const before = treeDigest(path.join(dir, ".alchemy"));
    const ui = await startUi(dir, "file:.alchemy");
    for (const p of ["/api/overview", "/api/stage?app=shop&stage=dev", "/api/graph?app=shop&stage=dev", "/api/history?app=shop&stage=dev", "/api/resource?fqn=shop/dev/db"]) {
      expect((await ui.get(p)).status, p).toBe(200);
    }
    const events = await openEvents(ui.port, `/api/events?app=shop&stage=dev&token=${ui.token}`);
    await events.waitFor(": watching");
    await new Promise((r) => setTimeout(r, 350)); // a few polls
    events.close();
    await ui.close();
    expect(treeDigest(path.join(dir, ".alchemy"))).toEqual(before);
  });

  it("counts records a stopped run left unfinished in the overview, as alchemy stages does", async () => {
    const { dir } = await deployedShop("file:.alchemy");
    const file = path.join(dir, ".alchemy/shop/dev/backend/api.json");
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), status: "updating" }));
    const ui = await startUi(dir, "file:.alchemy");
    expect((await json(ui.get("/api/overview"))).apps[0].stages[0]).toMatchObject({ resources: SHOP_FQNS.length, unfinished: 1, lock: null });
    const stages = await runAlchemy(["stages"], dir, shopEnv("file:.alchemy"));
    expect(stages.stdout).toMatch(/^dev +7 resources +deployed .* by .*; 1 left unfinished by a run that stopped \(creating\/updating\/deleting; the next deploy finishes them\)\n$/);
  });

  it("answers a missing stage or resource, and a malformed fqn, with an error naming it", async () => {
    const { dir } = await deployedShop("file:.alchemy");
    const ui = await startUi(dir, "file:.alchemy");
    const stage = await ui.get("/api/stage?app=shop&stage=prod");
    expect([stage.status, (await json(stage)).error]).toEqual([404, expect.stringMatching(/Stage shop\/prod has no records in .*: deploy it first/)]);
    const resource = await ui.get("/api/resource?fqn=shop/dev/nope");
    expect([resource.status, (await json(resource)).error]).toEqual([404, expect.stringMatching(/no record shop\/dev\/nope/)]);
    const bad = await ui.get("/api/resource?fqn=shop/..");
    expect(bad.status).toBe(400);
    const badStage = await ui.get("/api/stage?app=shop&stage=../x");
    expect(badStage.status).toBe(400);
  });

  it("shows a stage the profile may not use by name only, and refuses its views naming the mapping", async () => {
    const { dir } = await deployedShop("file:.alchemy");
    writeFileSync(path.join(dir, "alchemy.config.json"), JSON.stringify({ stageProfileMapping: { dev: ["prod"] } }));
    const ui = await startUi(dir, "file:.alchemy");
    const overview = await json(ui.get("/api/overview"));
    expect(overview.apps[0].stages).toEqual([expect.objectContaining({ stage: "dev", resources: null, denied: expect.objectContaining({ profile: "default", allowed: ["prod"] }) })]);
    for (const p of ["/api/stage?app=shop&stage=dev", "/api/graph?app=shop&stage=dev", "/api/history?app=shop&stage=dev", "/api/resource?fqn=shop/dev/db"]) {
      const res = await ui.get(p);
      const body = await res.text();
      expect(res.status, p).toBe(403);
      expect(body).toMatch(/Profile \\?"default\\?" may not be used on stage \\?"dev\\?"/);
      expect(body).not.toContain("shop/dev/db\",");
    }
  });

  it("starts from the command line, prints its URL, and stops on SIGINT", async () => {
    const { dir } = await deployedShop("file:.alchemy");
    let printed = "";
    const run = startAlchemy(["ui", "--port", "0"], dir, shopEnv("file:.alchemy"), (text) => (printed += text));
    onTestFinished(() => void run.child.kill("SIGKILL"));
    const url = await until(() => /alchemy ui: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43})\n/.exec(printed)?.[1]);
    const overview = await json(fetch(url.replace("/?", "/api/overview?")));
    expect(overview.apps[0].stages[0].resources).toBe(SHOP_FQNS.length);
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code).toBe(0);
    // As the README shows it.
    expect(result.stderr).toContain(`Reading ${path.join(dir, ".alchemy")} (read-only; no lock is taken). Only this URL, token included, opens it. Ctrl-C stops.\nStopped.\n`);
  });

  it("refuses a port outside 0-65535 and one that is taken, saying how to fix it", async () => {
    const dir = makeProject({});
    const bad = await runAlchemy(["ui", "--port", "70000"], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port.*whole number from 0 to 65535/);
    const taken = http.createServer().listen(0, "127.0.0.1");
    await new Promise((r) => taken.once("listening", r));
    onTestFinished(() => void taken.close());
    const port = (taken.address() as { port: number }).port;
    const busy = await runAlchemy(["ui", "--port", String(port)], dir);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(new RegExp(`Port ${port} on 127.0.0.1 is in use: pass another with --port`));
  });
});

describe("the README's picture of alchemy ui", () => {
  it("is a file of the repository", () => {
    const readme = readFileSync(path.join(REPO, "README.md"), "utf8");
    const pictures = [...readme.matchAll(/!\[[^\]]*\]\((docs\/[^)]+\.png)\)/g)].map((m) => m[1]!);
    expect(pictures).toContain("docs/alchemy-ui-live-deploy.png");
    for (const picture of pictures) expect(statSync(path.join(REPO, picture)).size, picture).toBeGreaterThan(10_000);
  });
});

/** The body of a JSON response, as the test reads it. */
async function json(response: Response | Promise<Response>): Promise<any> {
  return (await response).json();
}

/** Every string leaf of a sealed value in `record` long enough to be ciphertext. */
function sealedStrings(value: unknown): string[] {
  if (typeof value === "string") return value.length >= 16 && !value.includes("/") ? [value] : [];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(sealedStrings);
}

function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = `${s.mtimeMs} ${createHash("sha256").update(readFileSync(p)).digest("hex")}`;
    }
  };
  walk(dir);
  return out;
}

async function until<T>(read: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}

function rawGet(port: number, pathname: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: pathname, headers: { host } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A server-sent event stream, as text. */
async function openEvents(port: number, pathname: string): Promise<{ waitFor(text: string): Promise<void>; close(): void }> {
  let text = "";
  const req = http.get({ host: "127.0.0.1", port, path: pathname });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.once("response", resolve).once("error", reject));
  res.on("data", (d) => (text += d));
  return {
    waitFor: (wanted) => until(() => (text.includes(wanted) ? true : undefined)).then(() => undefined),
    close: () => req.destroy(),
  };
}
