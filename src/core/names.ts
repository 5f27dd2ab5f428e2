/**
 * Validation of application, stage and scope names and resource ids. Every name
 * becomes a path segment of the state layout, so it is checked before any I/O.
 *
 * @module
 */
import { ScopeError } from "./errors.js";

/** Letters, digits and marks of any script, plus `-`, `_` and `.`. */
const NAME_PATTERN = /^[\p{L}\p{N}\p{M}_.-]+$/u;
const MAX_NAME_LENGTH = 200;

/** What is being named, for the error message. */
export type NameKind = "application" | "stage" | "scope" | "resource id";

/**
 * The reason `name` is not a valid path segment, or `undefined` when it is.
 *
 * @example
 * nameProblem("a/b"); // "contains \"/\""
 */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return `is a ${typeof name}, not a string`;
  if (name.length === 0) return "is empty";
  if (name === "." || name === "..") return `is "${name}", which names a directory`;
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (NAME_PATTERN.test(name)) return undefined;
  for (const ch of name) {
    if (!NAME_PATTERN.test(ch)) {
      const code = ch.codePointAt(0)!;
      const shown = code < 0x20 || code === 0x7f ? `control character U+${code.toString(16).padStart(4, "0")}` : `"${ch}"`;
      return `contains ${shown}`;
    }
  }
  return "is not a valid name";
}

/**
 * Throws a {@link ScopeError} unless `name` is a valid path segment.
 *
 * @param where the scope path the name would be created under, for the message
 */
export function assertValidName(name: unknown, kind: NameKind, where: string): asserts name is string {
  const problem = nameProblem(name);
  if (problem === undefined) return;
  const shown = typeof name === "string" ? JSON.stringify(name) : String(name);
  throw new ScopeError(
    `Invalid ${kind} ${shown} in "${where}": it ${problem}. ` +
      `Use letters, digits, "-", "_" and "." only (not "." or ".." alone), e.g. "my-${kind === "resource id" ? "resource" : kind}".`,
    where,
  );
}
