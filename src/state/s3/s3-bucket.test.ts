import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LockLostError } from "../stage-lock.js";
import { S3Bucket } from "./s3-bucket.js";
import { s3Connection } from "./s3-connection.js";

/** A server answering each request with the next of `answers` (status, extra headers, body), recording the requests. */
async function scripted(answers: Array<{ status: number; headers?: Record<string, string>; body?: string }>) {
  const seen: Array<{ method: string; url: string; ifMatch?: string }> = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, ifMatch: req.headers["if-match"] as string | undefined });
      const answer = answers.shift() ?? { status: 500 };
      res.writeHead(answer.status, { "content-type": "application/xml", ...answer.headers });
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { endpoint, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

const xmlError = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const bucketOn = (endpoint: string) =>
  new S3Bucket(s3Connection({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "test-key", secretAccessKey: "test-secret-9f2c" }, credentialsFrom: "test" }), "state");

/** A server that holds every request until `release()`, except those for keys ending in `~lock.json`, which it answers at once. */
async function holding() {
  const held: Array<() => void> = [];
  const answered: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const key = new URL(req.url!, "http://any").pathname;
      const answer = () => {
        answered.push(key);
        res.writeHead(200, { etag: '"e"' });
        res.end();
      };
      if (key.endsWith("~lock.json")) answer();
      else held.push(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve)));
  return { endpoint, held, answered, release: () => held.splice(0).forEach((answer) => answer()), close };
}

describe("S3Bucket", () => {
  it("sends the stage lock's requests at once, ahead of record writes waiting for one of the 32 slots", async () => {
    const server = await holding();
    closers.push(server.close);
    const bucket = bucketOn(server.endpoint);
    const writes = Array.from({ length: 100 }, (_, i) => bucket.put(`app/dev/r${i}.json`, "{}", { doing: "write record" }));
    while (server.held.length < 32) await new Promise((resolve) => setTimeout(resolve, 5));
    const heartbeat = await bucket.put("app/dev/~lock.json", "{}", { doing: "renew the lock", condition: { ifMatch: "e" }, urgent: true });
    expect(heartbeat).toEqual({ etag: "e" });
    expect(server.answered).toEqual(["/state/app/dev/~lock.json"]);
    expect(server.held).toHaveLength(32); // the other 68 still wait for a slot
    const read = await bucket.get("app/dev/~lock.json", "read the lock", { urgent: true });
    expect(read?.etag).toBe("e");
    while (server.held.length > 0 || server.answered.length < 102) {
      server.release();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(writes);
  });

  it("sends again a conditional PUT answered 409 ConditionalRequestConflict, as AWS documents, and takes 412 for a lost race", async () => {
    const server = await scripted([
      { status: 409, body: xmlError("ConditionalRequestConflict", "A conflicting conditional operation is currently in progress against this resource.") },
      { status: 200, headers: { etag: '"abc123"' } },
      { status: 412, body: xmlError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold") },
    ]);
    closers.push(server.close);
    const bucket = bucketOn(server.endpoint);
    expect(await bucket.put("app/dev/~lock.json", "{}", { doing: "take the lock", condition: { ifMatch: "old" } })).toEqual({ etag: "abc123" });
    expect(await bucket.put("app/dev/~lock.json", "{}", { doing: "take the lock", condition: { ifMatch: "old" } })).toBe("precondition-failed");
    expect(server.seen.map((r) => `${r.method} ${r.ifMatch}`)).toEqual(['PUT "old"', 'PUT "old"', 'PUT "old"']);
  });

  it("runs the write's guard before every attempt, so a retry is not sent once the guard refuses", async () => {
    const server = await scripted([{ status: 503, body: xmlError("SlowDown", "Reduce your request rate.") }, { status: 200, headers: { etag: '"x"' } }]);
    closers.push(server.close);
    let checks = 0;
    const guard = () => {
      if (++checks > 2) throw new LockLostError("app/dev", "lock-1", undefined, "lease ran out");
    };
    // Two checks per attempt (after the slot, before sending): the first attempt passes both, the retry is refused.
    await expect(bucketOn(server.endpoint).put("app/dev/api.json", "{}", { doing: "write record", guard })).rejects.toBeInstanceOf(LockLostError);
    expect(server.seen).toHaveLength(1);
  });
});
