/**
 * Helpers for the end-to-end tests of the remote backend against the fake
 * Cloudflare API: a project directory (Worker scripts, D1 migrations), runs of
 * an application whose Cloudflare resources sit in a nested scope that
 * points its credentials at the fake, and a guard that fails a test reaching
 * for any other URL.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import alchemy, { type AlchemyOptions, type Application, type RunEvent } from "alchemy";
import { FileSystemStateStore } from "alchemy/state";
import { runLaunched, type Launch } from "../../../core/launch.js";
import type { State } from "../../../state/state-store.js";
import type { FakeCloudflare, LoggedRequest } from "./fake/fake-cloudflare.test-fixture.js";

/** The password of the stage's secrets in these runs. */
export const PASSWORD = "remote-deploy-password";

/** A Worker that answers requests and consumes queue messages. */
const WORKER_SOURCE = `export default {
  async fetch(request, env) { return new Response("hello " + env.GREETING); },
  async queue(batch) { for (const message of batch.messages) message.ack(); },
};
`;

/** A temporary application root holding two Worker scripts and two D1 migrations. */
export function project(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), "alchemy-remote-"));
  mkdirSync(path.join(dir, "src"));
  mkdirSync(path.join(dir, "migrations"));
  writeFileSync(path.join(dir, "src", "api.js"), WORKER_SOURCE);
  writeFileSync(path.join(dir, "src", "backend.js"), `export default { fetch() { return new Response("backend"); } };\n`);
  writeFileSync(path.join(dir, "migrations", "0001_users.sql"), "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);");
  writeFileSync(path.join(dir, "migrations", "0002_seed.sql"), "INSERT INTO users (name) VALUES ('ada');");
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What one run reported, besides its result. */
export interface RunReport<T> {
  result?: T;
  error?: unknown;
  warnings: string[];
  /** Finished resource events (no `start`). */
  events: RunEvent[];
  /** Everything written to the console during the run. */
  console: string[];
}

/** Options of {@link runApp}. */
export interface RunAppOptions extends Pick<AlchemyOptions, "phase" | "adopt" | "force" | "local" | "profile" | "refresh" | "onDrift"> {
  /**
   * The token the nested scope gives provider "cloudflare" (with the fake's
   * account and base URL); `"profile"`: no override, the profile's settings apply.
   * @default "test-token"
   */
  token?: string | "profile";
}

/**
 * Runs application "app" (stage "test", filesystem state under `dir`) as the
 * command line would, collecting warnings and events; the program runs in
 * nested scope "cf", whose Cloudflare credentials point at `fake`. Finalizes
 * on success, releases on failure; never throws (see `error`).
 */
export async function runApp<T>(fake: FakeCloudflare, dir: string, program: () => Promise<T>, options: RunAppOptions = {}): Promise<RunReport<T>> {
  const report: RunReport<T> = { warnings: [], events: [], console: [] };
  const launch: Launch = {
    options: {},
    spelledAs: {},
    onEvent: (event) => void (event.status !== "start" && report.events.push(event)),
    onWarning: (message) => void report.warnings.push(message),
    applications: [],
  };
  const { token = "test-token", ...appOptions } = options;
  const credentials = token === "profile" ? undefined : { cloudflare: { apiToken: token, accountId: fake.accountId, baseUrl: fake.baseUrl } };
  const restore = captureConsole(report.console);
  let app: Application | undefined;
  try {
    await runLaunched(launch, async () => {
      app = await alchemy("app", {
        stage: "test",
        rootDir: dir,
        stateStore: (scope) => new FileSystemStateStore(scope, { dir: path.join(dir, ".alchemy") }),
        password: PASSWORD,
        quiet: true,
        local: false, // whatever ALCHEMY_LOCAL says
        ...appOptions,
      });
      try {
        report.result = await alchemy.run("cf", credentials ? { credentials } : {}, program);
      } catch (error) {
        await app.release();
        throw error;
      }
      await app.finalize();
    });
  } catch (error) {
    report.error = error;
  } finally {
    restore();
  }
  return report;
}

function captureConsole(into: string[]): () => void {
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const saved = methods.map((name) => console[name]);
  for (const name of methods) console[name] = (...args: unknown[]) => void into.push(args.map(String).join(" "));
  return () => methods.forEach((name, i) => (console[name] = saved[i]!));
}

/** The records of nested scope "cf" of stage "test" under `dir`, by id. */
export async function records(dir: string): Promise<Record<string, State>> {
  const store = new FileSystemStateStore({ chain: ["app", "test", "cf"] }, { dir: path.join(dir, ".alchemy") });
  await store.init?.();
  try {
    return await store.all();
  } finally {
    await store.deinit?.();
  }
}

/** Every file under `dir`, as text, joined: to look for a string anywhere in the state. */
export function allText(dir: string): string {
  const parts: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const file = path.join(at, name);
      if (statSync(file).isDirectory()) walk(file);
      else parts.push(readFileSync(file).toString("latin1"));
    }
  };
  walk(dir);
  return parts.join("\n");
}

/** `METHOD path` of the requests that change something (not GET or HEAD). */
export function mutations(requests: readonly LoggedRequest[]): string[] {
  return requests.filter((r) => r.method !== "GET" && r.method !== "HEAD").map((r) => `${r.method} ${r.path}`);
}

/**
 * Replaces `globalThis.fetch` until the returned function is called: a
 * request to a URL outside `allowed()` is refused and listed in `strays`.
 */
export function guardFetch(allowed: () => readonly string[]): { strays: string[]; restore: () => void } {
  const original = globalThis.fetch;
  const strays: string[] = [];
  globalThis.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!allowed().some((prefix) => url.startsWith(prefix))) {
      strays.push(url);
      return Promise.reject(new Error(`remote-deploy test: a request to ${url} left the fake Cloudflare API`));
    }
    return original(input, init);
  };
  return { strays, restore: () => void (globalThis.fetch = original) };
}
