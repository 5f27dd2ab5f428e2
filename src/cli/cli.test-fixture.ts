/**
 * End-to-end harness: temp projects that depend on this package, and the real
 * `alchemy` binary run on them in a child process (from the TypeScript sources,
 * so that tests never see a stale build).
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { childEnv } from "../child-env.test-fixture.js";

/** The repository (the `alchemy` package) root. */
export const REPO = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const MAIN = path.join(REPO, "src/cli/main.ts");
const TSX = path.join(REPO, "node_modules/tsx/dist/loader.mjs");

/** A fresh project directory whose `node_modules/alchemy` is this package; `files` are written into it. */
export function makeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "alchemy-cli-"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(REPO, path.join(dir, "node_modules", "alchemy"), "dir");
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "project", private: true, type: "module" }));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

export function removeProject(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `alchemy ...args` in `cwd`; `onOutput` sees stdout and stderr as they come. */
export function startAlchemy(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  onOutput?: (text: string, child: ChildProcess) => void,
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ["--conditions", "source", "--import", TSX, MAIN, ...args], {
    cwd,
    env: childEnv(env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => {
    stdout += d;
    onOutput?.(String(d), child);
  });
  child.stderr!.on("data", (d) => {
    stderr += d;
    onOutput?.(String(d), child);
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs the program `alchemy.run.ts` of `dir` with node alone (no command line around it), as `node alchemy.run.ts` would; its stdout and stderr merged. */
export function runProgram(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--conditions", "source", "--import", TSX, "alchemy.run.ts"], {
    cwd: dir,
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** Runs `alchemy ...args` in `cwd` to completion. */
export function runAlchemy(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startAlchemy(args, cwd, env).done;
}

/**
 * Runs `alchemy ...args` on a pseudo-terminal (util-linux `script`), typing
 * `input` after `delayMs`; resolves with everything the terminal showed.
 */
export function runAlchemyOnTerminal(args: string[], cwd: string, input = "", delayMs = 0, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  if (!existsSync("/usr/bin/script")) {
    throw new Error("Terminal tests need util-linux `script` (/usr/bin/script) to allocate a pseudo-terminal: apt-get install util-linux.");
  }
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, "--conditions", "source", "--import", TSX, MAIN, ...args].map(quote).join(" ");
  const child = spawn("/usr/bin/script", ["-qfec", command, "/dev/null"], {
    cwd,
    env: childEnv({ TERM: "xterm", COLUMNS: "100", ...env }),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  setTimeout(() => child.stdin.end(input), delayMs);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
