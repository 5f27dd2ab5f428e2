/**
 * How an error thrown by the user's program or a resource's handler is shown:
 * its message, the place in the user's code it came from (file:line:column),
 * and under `--verbose` its whole stack.
 *
 * @module
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { AlchemyError, ResourceError } from "../core/errors.js";

/** This package's code: frames inside it are the engine's, not the user's. */
const ENGINE_DIRS = ["src", "dist"].map((dir) => path.resolve(fileURLToPath(new URL(`../../${dir}`, import.meta.url))) + path.sep);

/** The first stack frame of `error` in the user's code, as `file:line:column`: in `entry` if any, else the innermost one outside this package. */
export function userLocation(error: Error, entry: string): string | undefined {
  let fallback: string | undefined;
  for (const { file, location } of frames(error)) {
    if (file === entry) return location;
    if (!fallback && isUserFile(file)) fallback = location;
  }
  return fallback;
}

/**
 * Where a resource's handler threw: the innermost frame of `thrown` in the
 * user's code (outside this package and node_modules), as `file:line:column`.
 *
 * @example
 * handlerLocation(thrownByHandler(event.error)); // "/home/ada/shop/db.ts:12:20"
 */
export function handlerLocation(thrown: Error): string | undefined {
  return frames(thrown).find(({ file }) => isUserFile(file))?.location;
}

/**
 * What a resource's handler threw, given the error of its failed event: the
 * cause the engine wrapped (`Failed to update "...": ...`), or the error as the
 * handler threw it; `undefined` for the engine's own refusals, which carry no
 * place in the user's code.
 */
export function thrownByHandler(error: Error): Error | undefined {
  if (error instanceof ResourceError) return error.cause instanceof Error ? error.cause : undefined;
  return error instanceof AlchemyError ? undefined : error;
}

/**
 * The whole stack of `error` (for `--verbose`), then that of each `cause`
 * under `Caused by:`.
 *
 * @example
 * fullStack(error); // "TypeError: Cannot read properties of undefined (reading 'foo')\n    at Object.handler (file:///home/ada/shop/db.ts:12:20)\n    ..."
 */
export function fullStack(error: Error): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let current: unknown = error; current !== undefined && !seen.has(current) && parts.length < 8; ) {
    seen.add(current);
    const shown = current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : inspect(current, { depth: 2, breakLength: Infinity });
    parts.push(parts.length ? `Caused by: ${shown}` : shown);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join("\n");
}

/** The frames of `error`'s stack that name a file: "at fn (FILE:LINE:COL)" or "at FILE:LINE:COL"; node:internal frames are skipped. */
function frames(error: Error): { file: string; location: string }[] {
  const found: { file: string; location: string }[] = [];
  for (const frame of (error.stack ?? "").split("\n").slice(1)) {
    const match = /^at (?:.*? \()?((?:file:\/\/)?\/.+?|[A-Za-z]:\\.+?):(\d+):(\d+)\)?$/.exec(frame.trim());
    if (!match) continue;
    const file = match[1].startsWith("file://") ? fileURLToPath(match[1]) : match[1];
    found.push({ file, location: `${file}:${match[2]}:${match[3]}` });
  }
  return found;
}

function isUserFile(file: string): boolean {
  return !ENGINE_DIRS.some((dir) => file.startsWith(dir)) && !file.includes(`${path.sep}node_modules${path.sep}`);
}

/** The message of a program error, with a hint where the cause is a known setup mistake. */
export function programErrorMessage(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  // Node refuses to load an ES module (top-level await) that tsx handed it as CommonJS.
  const commonJs =
    code === "ERR_REQUIRE_CYCLE_MODULE" ||
    code === "ERR_REQUIRE_ASYNC_MODULE" ||
    /Top-level await is currently not supported with the "cjs" output format/.test(error.message);
  if (commonJs) {
    return (
      `${error.message}\nThe program is loaded as CommonJS, but its top-level await needs an ES module: ` +
      `add "type": "module" to the package.json next to it (create one if there is none), or name it alchemy.run.mts.`
    );
  }
  return error.message;
}
