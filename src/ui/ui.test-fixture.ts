/**
 * A deployed project for the web UI's tests: application "shop" with a
 * secret, dependencies, a nested scope and a resource scope; and the UI
 * server started in-process over its store.
 *
 * @module
 */
import { afterEach } from "vitest";
import { makeProject, removeProject, runAlchemy, type CliResult } from "../cli/cli.test-fixture.js";
import { StateSession } from "../cli/state-access.js";
import { profileAccess } from "../cli/stage-profile-check.js";
import { parseStoreUrl, storeFactory } from "../state/store-url.js";
import { startUiServer, type UiServer } from "./ui-server.js";

/** The secret's value: no response of the UI may contain it. */
export const SECRET_VALUE = "hunter2-correct-horse-battery";
export const PASSWORD = "ui-test-password";

/**
 * `shop::Part`: returns its props as output; `until` holds it until that
 * file exists, so that a test can watch a deploy part-way.
 */
const PART = `
import { existsSync } from "node:fs";
import alchemy, { Resource } from "alchemy";
export const Part = Resource("shop::Part", async function (id: string, props: { uses?: unknown[]; key?: unknown; until?: string; children?: string[] }) {
  if (this.phase === "delete") return this.destroy();
  while (props.until && !existsSync(props.until)) await new Promise((r) => setTimeout(r, 20));
  for (const child of props.children ?? []) await Part(child, {});
  return { name: id, key: props.key ?? null };
});
export { alchemy };
`;

/**
 * The program: 7 resources and 5 dependencies, in the stage, a nested scope
 * "backend" and the resource scope of "cluster". `extra` is added at the
 * end of the stage's body.
 */
export const shopProgram = (extra = "") => `
import { alchemy, Part } from "./part.ts";
const app = await alchemy("shop");
const vault = await Part("vault", { key: alchemy.secret(process.env.SHOP_KEY) });
const db = await Part("db", { uses: [vault] });
await alchemy.run("backend", async () => {
  const api = await Part("api", { uses: [db, vault] });
  await Part("worker", { uses: [api] });
});
await Part("cluster", { uses: [db], children: ["node-a", "node-b"] });
${extra}
await app.finalize();
`;

/** Records of the deployed program (fqn order) and its dependencies. */
export const SHOP_FQNS = [
  "shop/dev/backend/api",
  "shop/dev/backend/worker",
  "shop/dev/cluster",
  "shop/dev/cluster/node-a",
  "shop/dev/cluster/node-b",
  "shop/dev/db",
  "shop/dev/vault",
];
export const SHOP_DEPENDENCIES = 5;

/** Environment of every command: the stage, the password, the secret. */
export const shopEnv = (state: string): NodeJS.ProcessEnv => ({ ALCHEMY_STAGE: "dev", ALCHEMY_PASSWORD: PASSWORD, SHOP_KEY: SECRET_VALUE, ALCHEMY_STATE_STORE: state });

const made: string[] = [];
const servers: UiServer[] = [];
const sessions: StateSession[] = [];
/** Removes the projects and stops the servers of each test. */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    for (const ui of servers.splice(0)) await ui.close();
    for (const session of sessions.splice(0)) await session.close();
    made.splice(0).forEach(removeProject);
  });
}

/** A project with the shop program, deployed to stage dev of the store at `state`; `env` adds to the command's environment. */
export async function deployedShop(state: string, env: NodeJS.ProcessEnv = {}): Promise<{ dir: string; deploy: CliResult }> {
  const dir = makeProject({ "part.ts": PART, "alchemy.run.ts": shopProgram() });
  made.push(dir);
  const deploy = await runAlchemy(["deploy"], dir, { ...shopEnv(state), ...env });
  if (deploy.code !== 0) throw new Error(`deploy failed:\n${deploy.stdout}\n${deploy.stderr}`);
  return { dir, deploy };
}

/** The UI server over the store at `state` (relative to `dir`), in this process, polling every 100 ms. */
export async function startUi(dir: string, state: string, token = "test-token-0123456789"): Promise<UiServer & { token: string; get: (path: string) => Promise<Response> }> {
  const location = parseStoreUrl(state, dir);
  const session = new StateSession(location, storeFactory(location));
  sessions.push(session);
  const ui = await startUiServer({ session, access: profileAccess({}, { env: {}, cwd: dir }), port: 0, pollMs: 100, token });
  servers.push(ui);
  const base = `http://127.0.0.1:${ui.port}`;
  return { ...ui, token, get: (path) => fetch(`${base}${path}`, { headers: { "x-alchemy-token": token } }) };
}
