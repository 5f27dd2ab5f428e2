/**
 * Child process of the cross-process stage lock tests: a long-lived client of
 * one PostgreSQL schema, driven by JSON commands on stdin, one per line, each
 * answered by one JSON line on stdout carrying the command's `n`.
 *
 * Run: node --import <repo>/node_modules/tsx/dist/loader.mjs --conditions source lock-process.test-fixture.ts
 * with DATABASE_URL, SCHEMA, APP, NAME and STAGES (comma separated; their
 * stores are opened before `{"ready":true,"pid":...}` is printed) in the environment.
 *
 * Commands (`stage` defaults to the first of STAGES):
 * - `{"op":"lock","stage":"dev","leaseMs":2000,"timeoutMs":0,"host":"elsewhere","at":<epoch ms>}`: waits
 *   until `at` (so that contenders start together), tries to lock (holder host
 *   `host`, default this host) -> `{"ok":true,"id","token","tookOverFrom","ms"}`
 *   or `{"ok":false,"error":"StageLockedError","message"}`
 * - `{"op":"write","ids":["a"]}`: sets each id in the stage scope and in its
 *   `nested` scope -> `{"ok":true}`. A LockLostError is answered with
 *   `{"ok":false,"error":"LockLostError","message"}` and the process exits 3,
 *   as a run that lost its lock stops.
 * - `{"op":"heartbeat"}`, `{"op":"release"}` -> `{"ok":true}` or `{"ok":false,...}`
 * - `{"op":"exit"}`: releases what it holds, closes its stores, exits 0.
 *
 * @module
 */
import os from "node:os";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { LockLostError, type StageLock } from "../stage-lock.js";
import type { State } from "../state-store.js";
import { PostgresStateStore } from "./postgres-state-store.js";

/** A command of the parent. */
export interface LockCommand {
  n: number;
  op: "lock" | "write" | "heartbeat" | "release" | "exit";
  stage?: string;
  leaseMs?: number;
  timeoutMs?: number;
  host?: string;
  at?: number;
  ids?: string[];
}

/** The record a child writes as `id` in scope `chain`. */
export function lockProcessRecord(chain: readonly string[], id: string, writer: string): State {
  return { status: "created", kind: "test::Locked", id, fqn: [...chain, id].join("/"), seq: 1, data: { writer }, props: {}, output: {}, deps: [] };
}

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const app = env.APP!;
  const name = env.NAME!;
  const stages = env.STAGES!.split(",");
  const options = { connectionString: env.DATABASE_URL, schema: env.SCHEMA };
  const stores = new Map<string, PostgresStateStore>();
  const storeOf = (chain: string[]) => {
    const key = chain.join("/");
    let store = stores.get(key);
    if (store === undefined) stores.set(key, (store = new PostgresStateStore({ chain }, options)));
    return store;
  };
  for (const stage of stages) await storeOf([app, stage]).init();
  const held = new Map<string, StageLock>();
  const reply = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
  reply({ ready: true, pid: process.pid });

  const run = async (command: LockCommand): Promise<object | "exit"> => {
    const stage = command.stage ?? stages[0]!;
    switch (command.op) {
      case "lock": {
        if (command.at !== undefined) await new Promise((resolve) => setTimeout(resolve, Math.max(0, command.at! - Date.now())));
        const started = performance.now();
        const holder = { user: "tester", host: command.host ?? os.hostname(), pid: process.pid, command: `lock-process ${name}` };
        const lock = await storeOf([app, stage]).lock({ holder, leaseMs: command.leaseMs ?? 30_000, timeoutMs: command.timeoutMs ?? 0 });
        held.set(stage, lock);
        return { ok: true, id: lock.info.id, token: lock.info.token, tookOverFrom: lock.tookOverFrom?.id ?? null, ms: performance.now() - started };
      }
      case "write":
        await Promise.all(
          [[app, stage], [app, stage, "nested"]].flatMap((chain) => (command.ids ?? []).map((id) => storeOf(chain).set(id, lockProcessRecord(chain, id, name)))),
        );
        return { ok: true };
      case "heartbeat":
        await held.get(stage)!.heartbeat();
        return { ok: true };
      case "release":
        await held.get(stage)?.release();
        held.delete(stage);
        return { ok: true };
      case "exit":
        return "exit";
    }
  };

  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === "") continue;
    const command = JSON.parse(line) as LockCommand;
    let answer: object | "exit";
    try {
      answer = await run(command);
    } catch (error) {
      const e = error as Error;
      reply({ n: command.n, ok: false, error: e.name, message: e.message });
      if (error instanceof LockLostError) process.exit(3);
      continue;
    }
    if (answer === "exit") break;
    reply({ n: command.n, ...answer });
  }
  for (const lock of held.values()) await lock.release();
  for (const store of stores.values()) await store.deinit();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.env).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
