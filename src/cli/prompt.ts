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

/** Asks for a password on the terminal without echoing it. */
export async function askSecret(io: CliIO, question: string): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream, terminal: true });
  const output = rl as unknown as { _writeToOutput: (text: string) => void };
  let asked = false;
  output._writeToOutput = (text: string) => {
    // The question itself is shown; what is typed is not.
    if (!asked) io.stderr.write(text);
    asked = true;
  };
  try {
    const answer = await rl.question(question);
    io.stderr.write("\n");
    return answer;
  } finally {
    rl.close();
  }
}
