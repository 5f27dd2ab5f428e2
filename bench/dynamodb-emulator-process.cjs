// The DynamoDB emulator's process for `BENCH_STORES=dynamodb`: dynalite (the
// tests' emulator, in memory, tables ACTIVE at once) on a free port of
// 127.0.0.1, printing `{"port":N}` once listening. Every request that
// reaches dynalite is counted by its operation (the SDK's `X-Amz-Target:
// DynamoDB_20120810.<Operation>`, retries included) before dynalite handles
// it; `GET /__stats` answers the counts since the last call and resets them
// (it is not a DynamoDB request and is not counted). Exits when stdin closes.
"use strict";
const dynalite = require("dynalite");

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const [handle, ...others] = server.listeners("request");
if (!handle || others.length) throw new Error("dynalite's server should have exactly one request listener");
server.removeAllListeners("request");

let counts = {};
server.on("request", (request, response) => {
  if (request.method === "GET" && request.url === "/__stats") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(counts));
    counts = {};
    return;
  }
  const operation = String(request.headers["x-amz-target"] ?? "").split(".").pop() || "(none)";
  counts[operation] = (counts[operation] ?? 0) + 1;
  handle.call(server, request, response);
});

server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n"));
process.stdin.on("end", () => process.exit(0)).resume();
