/**
 * The DynamoDB state store's tests against dynalite (an in-memory DynamoDB
 * emulator): one server per test file on a free port, closed after its
 * tests, and a fresh table per case.
 *
 * @module
 */
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { afterAll } from "vitest";
import type { State } from "../state-store.js";
import { DynamoDBStateStore, type DynamoDBStateStoreOptions } from "./dynamodb-state-store.js";

// On Node < 22 the SDK's first client would print its NodeVersionSupportWarning (about SDK versions to come) into
// the test log, which for a passing suite is the list of tests and nothing else. dynamodb-store-url.test.ts checks where users see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** Any credentials do for dynalite; the SDK needs some. */
export const TEST_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test-secret-never-printed" };
export const TEST_REGION = "us-east-1";

/**
 * What child processes need in their environment to reach dynalite through
 * the SDK's default chain, without the SDK's warning about Node < 22 (on
 * Node 20 it would be their first line of stderr).
 */
export const CHILD_AWS_ENV = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: TEST_REGION,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

/** A running dynalite. */
export interface Dynalite {
  endpoint: string;
  close(): Promise<void>;
}

/** The script of {@link startDynaliteProcess}: dynalite on a free port, which it prints, until stdin closes. */
const DYNALITE_PROCESS = `
const dynalite = require("dynalite");
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
process.stdin.on("end", () => process.exit(0)).resume();
`;

/**
 * Starts dynalite in a process of its own, for tests whose child processes
 * hammer it: requests from the runs under test are then answered at the
 * pace of a server, not of the test's own event loop (vitest's worker,
 * which a loaded machine shares with everything the test does).
 */
export async function startDynaliteProcess(): Promise<Dynalite> {
  const child = spawn(process.execPath, ["-e", DYNALITE_PROCESS], { cwd: fileURLToPath(new URL("../../..", import.meta.url)), stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once("data", (data: Buffer) => resolve(String(data).trim()));
    void exited.then(() => reject(new Error("dynalite's process exited before it listened")));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

/** Starts dynalite in this process on a free port of 127.0.0.1, tables ACTIVE at once. */
export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The dynalite of this test file, started on first use and closed after all its tests. */
export function useDynalite(): () => Promise<Dynalite> {
  let started: Promise<Dynalite> | undefined;
  afterAll(async () => {
    await (await started)?.close();
  });
  return () => (started ??= startDynalite());
}

let tables = 0;

/** A table name no other case of this process uses. */
export function freshTable(): string {
  return `state-${process.pid}-${++tables}`;
}

/** Options of a store on `table` of `server`, with test credentials; the table is created on first use unless `createTable` says otherwise. */
export function testOptions(server: Dynalite, table: string, extra: Partial<DynamoDBStateStoreOptions> = {}): DynamoDBStateStoreOptions {
  if (extra.client !== undefined) return { table, createTable: true, ...extra };
  return { table, region: TEST_REGION, endpoint: server.endpoint, credentials: TEST_CREDENTIALS, createTable: true, ...extra };
}

/** A client of its own: stores given it share no fence with others, as another process's would not. */
export function separateClient(server: Dynalite): DynamoDBClient {
  return new DynamoDBClient({ region: TEST_REGION, endpoint: server.endpoint, credentials: TEST_CREDENTIALS });
}

/** The `dynamodb://` store URL of `table` on `server`, as `parseStoreUrl` reads it. */
export function storeUrl(server: Dynalite, table: string): string {
  return `dynamodb://${table}?endpoint=${server.endpoint}&region=${TEST_REGION}&createTable=true`;
}

/** Creates `table` on `server`, as a store does on first use. */
export async function createTable(server: Dynalite, table: string): Promise<void> {
  await new DynamoDBStateStore({ chain: ["app", "setup"] }, testOptions(server, table)).init();
}

/** A valid record `id` of the scope `chain`. */
export function record(chain: readonly string[], id: string, extra: Partial<State> = {}): State {
  return { status: "created", kind: "test::Thing", id, fqn: [...chain, id].join("/"), seq: 1, data: {}, props: { name: id }, output: { ok: true }, deps: [], ...extra };
}
