/**
 * An HTTP proxy in front of dynalite that records every request the SDK
 * sends (each attempt, retries included, by operation: `X-Amz-Target`
 * `DynamoDB_20120810.<Operation>`; and whose access key in which region
 * signed it) and can answer some of them with a failure instead of passing
 * them on.
 *
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** A failure to answer instead of forwarding: `times` requests of `operation`, each after `delayMs`. */
export interface InjectedFailure {
  operation: string;
  times: number;
  status?: number;
  type?: string;
  delayMs?: number;
}

/** A running proxy. */
export interface DynamoDBProxy {
  endpoint: string;
  /** The operation of every request received, in order. */
  readonly operations: string[];
  /** The access key and region each request was signed with, in order: `AKID/eu-west-1`. */
  readonly signedWith: string[];
  /** How many requests of `operation` were received (since the last `reset`). */
  count(operation: string): number;
  reset(): void;
  fail(failure: InjectedFailure): void;
  /** Forgets the failures not yet answered. */
  stopFailing(): void;
  close(): Promise<void>;
}

/** Starts a proxy to the DynamoDB endpoint `target` on a free port. */
export async function startProxy(target: string): Promise<DynamoDBProxy> {
  const operations: string[] = [];
  const signedWith: string[] = [];
  const failures: InjectedFailure[] = [];
  const server = http.createServer((request, response) => {
    const operation = String(request.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
    operations.push(operation);
    // Authorization: AWS4-HMAC-SHA256 Credential=<access key>/<date>/<region>/dynamodb/aws4_request, ...
    const [key, , region] = /Credential=([^,\s]+)/.exec(String(request.headers.authorization ?? ""))?.[1]?.split("/") ?? [];
    signedWith.push(`${key}/${region}`);
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const failure = failures.find((f) => f.operation === operation && f.times > 0);
      if (failure !== undefined) {
        failure.times--;
        setTimeout(() => {
          response.writeHead(failure.status ?? 500, { "content-type": "application/x-amz-json-1.0" });
          response.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${failure.type ?? "InternalServerError"}`, message: "injected by the test proxy" }));
        }, failure.delayMs ?? 0);
        return;
      }
      const forwarded = http.request(`${target}${request.url ?? "/"}`, { method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(response);
      });
      forwarded.on("error", (error) => response.destroy(error));
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    operations,
    signedWith,
    count: (operation) => operations.filter((o) => o === operation).length,
    reset: () => {
      operations.splice(0);
      signedWith.splice(0);
    },
    fail: (failure) => void failures.push({ ...failure }),
    stopFailing: () => void failures.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
