/**
 * Validation of application, stage and scope names and resource ids. Every name
 * becomes a path segment of the state layout, so it is checked before any I/O.
 *
 * @module
 */
import { ScopeError } from "./errors.js";

/** Letters, digits and marks of any script, plus `-`, `_` and `.`. */
const NAME_PATTERN = /^[\p{L}\p{N}\p{M}_.-]+$/u;
/**
 * The longest name, in UTF-8 bytes. Each name becomes a file or directory name,
 * and Linux and macOS allow 255 bytes per name (NAME_MAX); Windows 255 UTF-16
 * units, never more than the UTF-8 bytes. The filesystem store writes a record
 * as `<id>.json` through a temp file `<id>.json~tmp-<pid>-<8 hex>-<counter>`:
 * 36 bytes at most (pid up to 2^22 in base 36: 5; counter up to 2^53: 11), so
 * 219 would fit; 200 keeps a margin for what stores may add later.
 * A CJK character takes 3 bytes, so such ids fit 66 characters.
 */
export const MAX_NAME_BYTES = 200;

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
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so short names need no count.
  if (name.length * 3 > MAX_NAME_BYTES) {
    const bytes = Buffer.byteLength(name, "utf8");
    if (bytes > MAX_NAME_BYTES) return `is ${bytes} bytes long in UTF-8, more than the ${MAX_NAME_BYTES} a name may take as a file name`;
  }
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
  const shown = typeof name !== "string" ? String(name) : JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
  const tooLong = typeof name === "string" && Buffer.byteLength(name, "utf8") > MAX_NAME_BYTES;
  throw new ScopeError(
    `Invalid ${kind} ${shown} in "${where}": it ${problem}. ` +
      (tooLong
        ? `Use a shorter ${kind} (letters outside ASCII take 2 to 4 bytes each).`
        : `Use letters, digits, "-", "_" and "." only (not "." or ".." alone), e.g. "my-${kind === "resource id" ? "resource" : kind}".`),
    where,
  );
}
