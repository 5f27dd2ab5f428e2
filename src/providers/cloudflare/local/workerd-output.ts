/**
 * What workerd prints: Workers' `console.log` and the runtime's own errors.
 * Lines go on to a sink (the terminal by default); recent ones are kept, so
 * that a failed start can say why ("Uncaught SyntaxError ... at index.js:1").
 *
 * @module
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** Where workerd's lines go. */
export type WorkerdOutputSink = (line: string, stream: "stdout" | "stderr") => void;

/** Writes each line to this process's stdout or stderr, as Miniflare does by default, without workerd's stack addresses. */
export const terminalSink: WorkerdOutputSink = (line, stream) => {
  if (line.startsWith("stack: ")) return;
  (stream === "stdout" ? process.stdout : process.stderr).write(`${line}\n`);
};

const KEPT_LINES = 200;

/** Collects workerd's output across restarts (each `setOptions` starts a new process). */
export class WorkerdOutput {
  readonly #sink: WorkerdOutputSink;
  readonly #lines: string[] = [];
  #count = 0;

  constructor(sink: WorkerdOutputSink = terminalSink) {
    this.#sink = sink;
  }

  /** Miniflare's `handleRuntimeStdio`. */
  readonly attach = (stdout: Readable, stderr: Readable): void => {
    this.#read(stdout, "stdout");
    this.#read(stderr, "stderr");
  };

  /** A position to pass to {@link errorsSince}. */
  mark(): number {
    return this.#count;
  }

  /**
   * The error lines printed since `mark`, without workerd's stack addresses.
   * Waits a moment first: the lines of a failed start arrive just after the failure.
   */
  async errorsSince(mark: number): Promise<string[]> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const kept = this.#lines.slice(Math.max(0, this.#lines.length - (this.#count - mark)));
    return kept.filter((line) => !line.startsWith("stack:") && line.trim() !== "");
  }

  #read(stream: Readable, name: "stdout" | "stderr"): void {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on("line", (line) => {
      if (name === "stderr") {
        this.#lines.push(line);
        this.#count++;
        if (this.#lines.length > KEPT_LINES) this.#lines.shift();
      }
      this.#sink(line, name);
    });
  }
}
