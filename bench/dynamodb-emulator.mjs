// The DynamoDB emulator for `BENCH_STORES=dynamodb`: dynalite in a child
// process of its own (dynamodb-emulator-process.cjs), counting the requests
// that reach it by operation.
import { spawn } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const PROCESS = fileURLToPath(new URL("./dynamodb-emulator-process.cjs", import.meta.url));
const ROOT = dirname(dirname(PROCESS));

/** Starts dynalite; resolves { endpoint, requests(), stop() }. */
export async function startDynamoDBEmulator() {
  // cwd: the repository, so that require("dynalite") resolves from its node_modules.
  const child = spawn(process.execPath, [PROCESS], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const port = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]).port);
    });
    void exited.then((code) => reject(new Error(`the DynamoDB emulator exited with code ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    /** Requests by DynamoDB operation (GetItem, Query, PutItem, UpdateItem, BatchGetItem, ...) since the last call. */
    requests: async () => (await fetch(`${endpoint}/__stats`)).json(),
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
