/**
 * Yes/no questions on the terminal.
 *
 * @module
 */
import { createInterface } from "node:readline/promises";
import type { CliIO } from "./io.js";

/** Asks `question` on the terminal; true only when the answer is "yes" (or "y"). */
export async function confirm(io: CliIO, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream, terminal: !!io.stdin.isTTY });
  try {
    const answer = await rl.question(question);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
