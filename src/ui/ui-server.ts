/**
 * The web UI's HTTP server: one page (its script and style inlined) and a
 * read-only JSON API over a {@link StateSession}, on 127.0.0.1 only. Every
 * request must carry the random token of the URL the command printed (in the
 * query, or the `x-alchemy-token` header), and name this server as its Host
 * (so a web page that rebinds a DNS name to 127.0.0.1 gets nothing either):
 * no other local user, and no web page the user visits, can read the state.
 *
 * Routes (all GET):
 * - `/?token=T`: the page
 * - `/api/overview`: applications and stages
 * - `/api/stage?app=A&stage=S`: a stage's scopes, resources, dependencies and lock
 * - `/api/graph?app=A&stage=S`: the stage's graph as SVG
 * - `/api/history?app=A&stage=S[&limit=N]`: the stage's runs
 * - `/api/resource?fqn=F`: one resource
 * - `/api/events[?app=A&stage=S]`: server-sent events, one `change` each time what the page shows changes
 *
 * @module
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { buildStageGraph } from "../graph/stage-graph.js";
import { toSvg } from "../graph/svg.js";
import type { StateSession } from "../cli/state-access.js";
import type { ProfileAccess } from "../cli/stage-profile-check.js";
import { ChangeFeed } from "./change-feed.js";
import { appsOf, readHistory, readOverview, readResource, readStage, readStageRecords, stageFingerprint, UiRequestError } from "./ui-data.js";
import { checkName } from "../cli/state-target.js";

/** What the server reads and how. */
export interface UiServerOptions {
  session: StateSession;
  /** The application shown; every one the store holds when absent (read again for each page, so a new one shows up). */
  app?: string;
  access: ProfileAccess;
  /** 0: a free port the system picks. */
  port: number;
  /** How often a watched page's state is read again. @default 400 */
  pollMs?: number;
  /** The token; tests may fix it. @default 32 random bytes, base64url */
  token?: string;
}

/** A running UI server. */
export interface UiServer {
  /** The URL to open, token included: `http://127.0.0.1:<port>/?token=<token>`. */
  url: string;
  port: number;
  /** Stops accepting requests, ends the event streams and closes the server. */
  close(): Promise<void>;
}

/** Where the page's files are: beside this module in src/ui/client (the build copies them to dist/ui/client). */
const CLIENT = new URL("./client/", import.meta.url);

/**
 * Starts the server on 127.0.0.1.
 *
 * @throws Error with code `EADDRINUSE` when the port is taken.
 * @example
 * const ui = await startUiServer({ session, access, port: 0 });
 * console.log(ui.url); // http://127.0.0.1:39521/?token=...
 */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const token = options.token ?? randomBytes(32).toString("base64url");
  const feed = new ChangeFeed(options.pollMs ?? 400);
  const page = readPage();
  const streams = new Set<http.ServerResponse>();
  let port = 0;

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error) => fail(res, error));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
    if (!allowedHost(req.headers.host, port)) return refuse(res, 403, `This server answers only to http://127.0.0.1:${port} and http://localhost:${port}.`);
    if (!hasToken(req, url, token)) {
      return refuse(res, 403, "This alchemy ui needs the token of the URL it printed when it started (…/?token=…). Open that URL, or restart `alchemy ui` for a new one.");
    }
    if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, 405, "alchemy ui is read-only: it answers GET requests only.");
    const q = url.searchParams;
    const { session, access } = options;
    switch (url.pathname) {
      case "/":
        return sendPage(res, page);
      case "/api/overview":
        return sendJson(res, await readOverview(session, await appsOf(session, options.app), access));
      case "/api/stage":
        return sendJson(res, await readStage(session, ...stageOf(q), access));
      case "/api/graph": {
        const [app, stage] = stageOf(q);
        const { walked } = await readStageRecords(session, app, stage, access);
        const graph = buildStageGraph(app, stage, walked);
        const svg = toSvg(graph).replace(/^<\?xml[^>]*>\s*/, ""); // the page inlines it
        return sendJson(res, { app, stage, nodes: graph.nodes.length, edges: graph.edges.length, svg });
      }
      case "/api/history":
        return sendJson(res, await readHistory(session, ...stageOf(q), access, limitOf(q)));
      case "/api/resource":
        return sendJson(res, await readResource(session, param(q, "fqn"), access));
      case "/api/events":
        return streamChanges(req, res, q);
      default:
        return refuse(res, 404, `Nothing at ${url.pathname}.`);
    }
  }

  function streamChanges(req: http.IncomingMessage, res: http.ServerResponse, q: URLSearchParams): void {
    const { session, access } = options;
    const watched = q.has("stage") ? stageOf(q) : undefined;
    const key = watched ? `stage:${watched.join("/")}` : "overview";
    const read = watched
      ? () => stageFingerprint(session, watched[0], watched[1], access)
      : async () => JSON.stringify(await readOverview(session, await appsOf(session, options.app), access));
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream", connection: "keep-alive" });
    res.write(": watching\n\n");
    streams.add(res);
    const stop = feed.listen(key, read, (version) => res.write(`event: change\ndata: ${version}\n\n`));
    const keepAlive = setInterval(() => res.write(": ping\n\n"), 15_000);
    keepAlive.unref();
    req.on("close", () => {
      clearInterval(keepAlive);
      stop();
      streams.delete(res);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    close: async () => {
      feed.close();
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "cross-origin-resource-policy": "same-origin",
};

function readPage(): { head: string; tail: string; script: string; style: string } {
  const html = readFileSync(new URL("index.html", CLIENT), "utf8");
  const [head, tail] = html.split("<!-- app -->") as [string, string];
  return { head, tail, script: readFileSync(new URL("app.js", CLIENT), "utf8"), style: readFileSync(new URL("style.css", CLIENT), "utf8") };
}

function sendPage(res: http.ServerResponse, page: ReturnType<typeof readPage>): void {
  const nonce = randomBytes(16).toString("base64");
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  const body = `${page.head}<style nonce="${nonce}">${page.style}</style>\n<script nonce="${nonce}" type="module">${page.script}</script>${page.tail}`;
  res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "content-security-policy": csp });
  res.end(body);
}

function sendJson(res: http.ServerResponse, value: unknown): void {
  res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(value));
}

function refuse(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify({ error: message }));
}

function fail(res: http.ServerResponse, error: unknown): void {
  if (error instanceof UiRequestError) return refuse(res, error.status, error.message);
  refuse(res, 500, (error as Error)?.message ?? String(error));
}

function allowedHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

function hasToken(req: http.IncomingMessage, url: URL, token: string): boolean {
  const given = url.searchParams.get("token") ?? req.headers["x-alchemy-token"];
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function param(q: URLSearchParams, name: string): string {
  const value = q.get(name);
  if (value === null || value === "") throw new UiRequestError(`Missing the query parameter ${name}.`, 400);
  return value;
}

function stageOf(q: URLSearchParams): [string, string] {
  try {
    return [checkName(param(q, "app"), "application", "app"), checkName(param(q, "stage"), "stage", "stage")];
  } catch (error) {
    if (error instanceof UiRequestError) throw error;
    throw new UiRequestError((error as Error).message, 400);
  }
}

function limitOf(q: URLSearchParams): number | undefined {
  const text = q.get("limit");
  if (text === null) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UiRequestError(`limit must be a positive whole number, not ${JSON.stringify(text)}.`, 400);
  return n;
}
