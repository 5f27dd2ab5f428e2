/**
 * How an error thrown by the user's program is shown: its message, and the
 * place in the user's code it came from (file:line:column).
 *
 * @module
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

/** This package's code: frames inside it are the engine's, not the user's. */
const ENGINE_DIRS = ["src", "dist"].map((dir) => path.resolve(fileURLToPath(new URL(`../../${dir}`, import.meta.url))) + path.sep);

/** The first stack frame of `error` in the user's code, as `file:line:column`. */
export function userLocation(error: Error, entry: string): string | undefined {
  const frames = (error.stack ?? "").split("\n").slice(1);
  let fallback: string | undefined;
  for (const frame of frames) {
    // "at fn (FILE:LINE:COL)" or "at FILE:LINE:COL"; node:internal frames are skipped.
    const match = /^at (?:.*? \()?((?:file:\/\/)?\/.+?|[A-Za-z]:\\.+?):(\d+):(\d+)\)?$/.exec(frame.trim());
    if (!match) continue;
    const file = match[1].startsWith("file://") ? fileURLToPath(match[1]) : match[1];
    const location = `${file}:${match[2]}:${match[3]}`;
    if (file === entry) return location;
    if (!fallback && !ENGINE_DIRS.some((dir) => file.startsWith(dir)) && !file.includes(`${path.sep}node_modules${path.sep}`)) fallback = location;
  }
  return fallback;
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
