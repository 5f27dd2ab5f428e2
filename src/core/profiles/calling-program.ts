/**
 * Which program file started an application: the file that called
 * `alchemy(...)`, usually `alchemy.run.ts`. The project's
 * `alchemy.config.json` is looked for beside it, so that its rules hold
 * wherever the program is run from (another working directory, `-C`, a
 * `rootDir` elsewhere, `node path/to/alchemy.run.ts`).
 *
 * Found from the call stack rather than `process.argv`, which the engine
 * never reads: the first frame outside this package is the caller.
 *
 * @module
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Root of this package (`src/core/profiles` or `dist/core/profiles`, three levels down). */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * The file of the nearest caller outside this package, or `undefined` when
 * there is none (a program inside this repository, such as its own tests) or
 * the stack does not tell. Call it synchronously from the public entry point.
 *
 * @example
 * const file = callingProgramFile(); // "/home/ada/shop/alchemy.run.ts"
 */
export function callingProgramFile(): string | undefined {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let frames: NodeJS.CallSite[] = [];
  try {
    Error.prepareStackTrace = (_error, callSites) => callSites;
    Error.stackTraceLimit = 50;
    frames = (new Error().stack as unknown as NodeJS.CallSite[] | undefined) ?? [];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  for (const frame of frames) {
    const file = fileOf(frame.getFileName());
    if (file !== undefined && !isInside(PACKAGE_ROOT, file)) return file;
  }
  return undefined;
}

/** A frame's file as a path: file URLs (with any `?query`) converted, `node:` and eval frames dropped. */
function fileOf(name: string | undefined | null): string | undefined {
  if (!name) return undefined;
  if (name.startsWith("file:")) {
    try {
      return fileURLToPath(name);
    } catch {
      return undefined;
    }
  }
  return path.isAbsolute(name) ? name : undefined;
}

function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}
