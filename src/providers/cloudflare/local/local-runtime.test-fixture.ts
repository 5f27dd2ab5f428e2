/**
 * Helpers of the local runtime's tests: Worker specs from inline code, temp
 * persist roots, waiting for what a queue consumer does, workerd processes of
 * this test process.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { WorkerBinding, WorkerSpec } from "../backend.js";

/** A Worker spec of one ESM module. */
export function workerSpec(name: string, code: string, more: Partial<WorkerSpec> = {}): WorkerSpec {
  return {
    name,
    modules: [{ name: "index.js", type: "esm", contents: code }],
    compatibilityDate: "2026-04-01",
    compatibilityFlags: [],
    bindings: [] as WorkerBinding[],
    queueConsumers: [],
    url: true,
    ...more,
  };
}

/** A Worker answering `text` to every request. */
export function textWorker(name: string, text: string, more: Partial<WorkerSpec> = {}): WorkerSpec {
  return workerSpec(name, `export default { fetch() { return new Response(${JSON.stringify(text)}); } };`, more);
}

/** A new empty directory under the system's temp directory. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `alchemy-${prefix}-`));
}

/** Calls `probe` until it returns something other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Nothing after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Pids of the workerd processes this process started. */
export function workerdChildren(): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid), "workerd"], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Whether process `pid` exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether nothing accepts connections at `url` (no Worker serves on its port). */
export async function refuses(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED";
  }
}
