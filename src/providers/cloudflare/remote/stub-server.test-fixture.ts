/**
 * Test helpers for the Cloudflare API client: a tiny node:http server that
 * answers from a handler and records every request, and a fake clock whose
 * waits are instant but recorded.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock } from "./clock.js";

/** A request the stub received. */
export interface StubRequest {
  method: string;
  /** Path and query, e.g. `/client/v4/accounts?page=2`. */
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** What the handler answers; `destroy` drops the connection without an answer. */
export type StubAnswer =
  | { status?: number; headers?: Record<string, string>; json?: unknown; text?: string; body?: Buffer }
  | "destroy";

/** A running stub. */
export interface StubServer {
  /** `http://127.0.0.1:<port>/client/v4`. */
  baseUrl: string;
  origin: string;
  requests: StubRequest[];
  close(): Promise<void>;
}

/**
 * Starts a stub on a free port of 127.0.0.1; `handler` gets each request and
 * its number (0-based).
 *
 * @example
 * const server = await stubServer(() => ok({ id: "abc" }));
 */
export async function stubServer(handler: (request: StubRequest, index: number) => StubAnswer | Promise<StubAnswer>): Promise<StubServer> {
  const requests: StubRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const request = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(request);
      const answer = await handler(request, requests.length - 1);
      if (answer === "destroy") {
        req.socket.destroy();
        return;
      }
      const body = answer.body ?? Buffer.from(answer.json !== undefined ? JSON.stringify(answer.json) : (answer.text ?? ""));
      res.writeHead(answer.status ?? 200, { ...(answer.json !== undefined ? { "content-type": "application/json" } : {}), ...answer.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl: `${origin}/client/v4`,
    origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A successful envelope around `result`. */
export function ok(result: unknown, resultInfo?: Record<string, unknown>): StubAnswer {
  return { json: { success: true, errors: [], messages: [], result, ...(resultInfo ? { result_info: resultInfo } : {}) } };
}

/** A failed envelope with `errors` and `status`. */
export function fail(status: number, errors: Array<{ code: number; message: string }>, headers?: Record<string, string>): StubAnswer {
  return { status, headers, json: { success: false, errors, messages: [], result: null } };
}

/** A clock whose `sleep` returns at once (after a microtask), moving `now` to the end of the wait and recording it. */
export interface FakeClock extends Clock {
  sleeps: number[];
  set(now: number): void;
}

/** @example const clock = fakeClock(); ...; expect(clock.sleeps).toEqual([42_000]); */
export function fakeClock(start = 1_700_000_000_000): FakeClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    set: (value) => {
      now = value;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
      const until = now + ms;
      // Time moves after the caller has yielded, so that requests started together all see the same "now".
      await Promise.resolve();
      now = Math.max(now, until);
    },
  };
}
