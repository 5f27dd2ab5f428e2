/**
 * A {@link CliIO} that records what a command prints, for tests.
 *
 * @module
 */
import { PassThrough } from "node:stream";
import type { CliIO, Output } from "./io.js";

export interface CapturedIO extends CliIO {
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
}

/** An IO rooted at `cwd`, not a terminal unless `tty` is set. */
export function captureIO(cwd: string, env: NodeJS.ProcessEnv = {}, tty = false): CapturedIO {
  const stream = (): Output & { text: string } => {
    const s = { text: "", isTTY: tty, columns: 100, write: (chunk: string) => void (s.text += chunk) };
    return s;
  };
  const stdout = stream();
  const stderr = stream();
  const stdin = Object.assign(new PassThrough(), { isTTY: tty });
  return { stdout, stderr, stdin, env: { ...env }, cwd, out: () => stdout.text, err: () => stderr.text };
}
