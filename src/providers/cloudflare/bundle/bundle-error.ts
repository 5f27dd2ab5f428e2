/**
 * The one error a Worker's bundling fails with: its script is missing, does
 * not parse, imports something that cannot be found, or esbuild is not
 * installed. Its message names the Worker and lists every problem where it is.
 *
 * @module
 */
import path from "node:path";
import type { Message } from "esbuild";
import { AlchemyError } from "../../../core/errors.js";

/** One problem esbuild reported, where it is. */
export interface BundleProblem {
  /** Path of the file, relative to the Worker's `rootDir` (`/`-separated); absent for a problem with no place (a bad option). */
  file?: string;
  /** 1-based line. */
  line?: number;
  /** 1-based column, as editors count (esbuild counts from 0). */
  column?: number;
  /** What is wrong, e.g. `Expected ";" but found "x"`. */
  text: string;
}

/**
 * A Worker's script could not be bundled.
 *
 * @example
 * // Worker "api-worker" does not build:
 * //   src/api/index.ts:3:9: Expected ";" but found "x"
 * if (error instanceof BundleError) for (const p of error.problems) console.error(p.file, p.line, p.text);
 */
export class BundleError extends AlchemyError {
  override name = "BundleError";
  constructor(
    message: string,
    /** The Worker whose script failed, as given in `workerName`. */
    readonly workerName: string,
    /** What esbuild reported; empty when the build did not start (missing script, no esbuild). */
    readonly problems: BundleProblem[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The error for a build esbuild reported `errors` for: one line per error as
 * `file:line:column: text`, each note of an error indented below it.
 *
 * @example
 * throw buildFailed("api-worker", "/abs/project", failure.errors);
 */
export function buildFailed(workerName: string, rootDir: string, errors: Message[], cause?: unknown): BundleError {
  const problems = errors.map((message) => toProblem(message, rootDir));
  const lines = errors.flatMap((message, i) => [
    `  ${describe(problems[i])}`,
    ...message.notes.filter((note) => note.text).map((note) => `    ${formatMessage(note, rootDir)}`),
  ]);
  return new BundleError(`Worker "${workerName}" does not build:\n${lines.join("\n")}`, workerName, problems, { cause });
}

/**
 * One esbuild message (an error, a warning, a note) as `file:line:column: text`,
 * the file relative to `rootDir`.
 *
 * @example
 * formatMessage(warning, "/abs/project"); // 'src/index.ts:4:10: Comparison with -0 using the "===" operator ...'
 */
export function formatMessage(message: Pick<Message, "text" | "location">, rootDir: string): string {
  return describe(toProblem(message, rootDir));
}

function toProblem(message: Pick<Message, "text" | "location">, rootDir: string): BundleProblem {
  const location = message.location;
  if (!location) return { text: message.text };
  // esbuild gives paths relative to absWorkingDir (the rootDir); a plugin's may be absolute.
  const file = path.isAbsolute(location.file) ? path.relative(rootDir, location.file) : location.file;
  return { file: file.split(path.sep).join("/"), line: location.line, column: location.column + 1, text: message.text };
}

function describe(problem: BundleProblem): string {
  return problem.file ? `${problem.file}:${problem.line}:${problem.column}: ${problem.text}` : problem.text;
}
