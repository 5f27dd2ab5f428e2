/**
 * The streams and environment a command runs with. Commands take one instead
 * of touching `process` so that they can be driven and observed in tests.
 *
 * @module
 */

/** An output stream, and whether it is a terminal. */
export interface Output {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
  /** For confirmation prompts; only read when it is a terminal. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Directory relative paths (entry, --root) resolve against. */
  cwd: string;
}

/** The real process streams. */
export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}
