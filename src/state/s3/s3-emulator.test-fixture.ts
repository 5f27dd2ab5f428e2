/**
 * The S3 emulator for tests: s3rver in a child process of its own
 * (`s3-emulator-process.test-fixture.cjs`, which adds the conditional
 * writes s3rver lacks), on a free port, storing in a temporary directory.
 * A fake proves our client against the S3 API's documented contract, never
 * AWS's or R2's own behaviour.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import { childEnv } from "../../child-env.test-fixture.js";
import type { S3StateStoreOptions } from "./s3-state-store.js";

const PROCESS = fileURLToPath(new URL("./s3-emulator-process.test-fixture.cjs", import.meta.url));

/** s3rver's fixed access key. */
export const EMULATOR_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** A running emulator. */
export interface S3Emulator {
  endpoint: string;
  /** Buckets made when it started. */
  buckets: string[];
  /** Store options for `bucket` on this emulator. */
  options(bucket: string, extra?: Partial<S3StateStoreOptions>): S3StateStoreOptions;
  /** A store URL for `bucket`/`prefix` on this emulator (credentials come from the environment: {@link emulatorEnv}). */
  url(bucket: string, prefix?: string): string;
  stop(): Promise<void>;
}

/** The environment a child process needs to reach the emulator through the AWS SDK's default chain. */
export function emulatorEnv(): NodeJS.ProcessEnv {
  return { AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey, AWS_REGION: "us-east-1" };
}

/**
 * Starts an emulator with `buckets` (created empty); with `ignoreConditions`,
 * one that ignores conditional writes as s3rver itself does.
 *
 * @throws Error saying the emulator did not start, with its stderr.
 */
export async function startS3Emulator(buckets: string[] = ["state"], options: { ignoreConditions?: boolean } = {}): Promise<S3Emulator> {
  const dir = mkdtempSync(path.join(tmpdir(), "alchemy-s3rver-"));
  // Node 20 disabled the cipher s3rver's continuation tokens use; the flag brings it back for this process only.
  const child: ChildProcess = spawn(process.execPath, ["--openssl-legacy-provider", PROCESS, dir, ...buckets], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...childEnv(), S3_EMULATOR_IGNORE_CONDITIONS: options.ignoreConditions ? "1" : "" },
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve(JSON.parse(line!).port as number);
    });
    child.once("exit", (code) => reject(new Error(`The S3 emulator (s3rver) exited with code ${code} before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`The S3 emulator (s3rver) did not start within 30 s: ${stderr}`)), 30_000).unref();
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    buckets,
    options: (bucket, extra = {}) => ({ bucket, endpoint, forcePathStyle: true, region: "us-east-1", credentials: EMULATOR_CREDENTIALS, ...extra }),
    url: (bucket, prefix = "") => `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true&region=us-east-1`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One emulator for the test file, started on first use and stopped after
 * the file; each call of the returned function gives it.
 *
 * @example
 * const s3 = useS3Emulator(["state", "other"]);
 * it("...", async () => { const { options } = await s3(); });
 */
export function useS3Emulator(buckets: string[] = ["state"], options: { ignoreConditions?: boolean } = {}): () => Promise<S3Emulator> {
  let started: Promise<S3Emulator> | undefined;
  afterAll(async () => {
    if (started !== undefined) await (await started).stop();
  });
  return () => (started ??= startS3Emulator(buckets, options));
}
