// The S3 emulator for `BENCH_STORES=s3`: the tests' s3rver process
// (src/state/s3/s3-emulator-process.test-fixture.cjs: conditional writes and
// S3's delimited listings added), storing in a temp dir, counting requests.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const PROCESS = fileURLToPath(new URL("../src/state/s3/s3-emulator-process.test-fixture.cjs", import.meta.url));

/** Starts the emulator with bucket `bucket`; resolves { endpoint, requests(), stop() }. */
export async function startS3Emulator(bucket) {
  const dir = mkdtempSync(join(os.tmpdir(), "alchemy-bench-s3rver-"));
  const child = spawn(process.execPath, ["--openssl-legacy-provider", PROCESS, dir, bucket], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]).port);
    });
    child.once("exit", (code) => reject(new Error(`the S3 emulator exited with code ${code}`)));
  });
  // Also when the bench fails: s3rver would otherwise outlive it.
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    /** Requests by operation (GET, PUT, DELETE, LIST, HEAD) since the last call. */
    requests: async () => (await fetch(`${endpoint}/__stats`)).json(),
    stop: async () => {
      process.off("exit", killOnExit);
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
