/**
 * Watches a run for the two ways it can end without finishing, both of which
 * Node would end without a word:
 * - stuck: the event loop runs empty while the run still awaits something (a
 *   handler, or the program, awaits a promise that nothing is left to settle).
 *   Node would exit with code 13; {@link RunWatch.race} resolves to
 *   {@link STUCK} instead, so the command can report and release what it holds.
 * - exited: the process exits in the middle of the run (`process.exit` in a
 *   handler). Nothing asynchronous runs any more; the command is told
 *   synchronously, can still print, and picks the exit code.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** What {@link RunWatch.race} resolves to when the event loop ran empty first. */
export const STUCK: unique symbol = Symbol("stuck");

/** How the process is exiting. */
export interface ProcessExit {
  /** The exit code Node is about to use. */
  code: number;
  /** True when `process.exit()` was called (rather than Node ending the process itself). */
  explicit: boolean;
  /** `file:line:column` of the `process.exit()` call, when known. */
  calledAt?: string;
}

export interface RunWatch {
  /** Resolves to what `work` resolves to, or to {@link STUCK} if the event loop runs empty first. */
  race<T>(work: Promise<T>): Promise<T | typeof STUCK>;
  /** Stops watching; call when the run is over. */
  dispose(): void;
}

/**
 * Starts watching. `onExit` runs if the process exits before {@link RunWatch.dispose}:
 * synchronously, as the last thing the process does; what it returns becomes the exit code.
 *
 * @example
 * const watch = watchRun((exit) => (exit.code === 0 ? 1 : exit.code));
 * try {
 *   if ((await watch.race(run())) === STUCK) await releaseEverything();
 * } finally {
 *   watch.dispose();
 * }
 */
export function watchRun(onExit: (exit: ProcessExit) => number): RunWatch {
  const waiting = new Set<() => void>();
  const onBeforeExit = () => {
    const stuck = [...waiting];
    waiting.clear();
    stuck.forEach((resolve) => resolve());
  };
  const onProcessExit = (code: number) => {
    const stack = new Error().stack ?? "";
    const explicit = /^\s*at process\.exit /m.test(stack);
    process.exitCode = onExit({ code, explicit, calledAt: explicit ? callerOfExit(stack) : undefined });
  };
  process.on("beforeExit", onBeforeExit);
  process.on("exit", onProcessExit);
  return {
    race<T>(work: Promise<T>) {
      return new Promise<T | typeof STUCK>((resolve, reject) => {
        const stuck = () => resolve(STUCK);
        waiting.add(stuck);
        work.then(
          (value) => {
            waiting.delete(stuck);
            resolve(value);
          },
          (error: unknown) => {
            waiting.delete(stuck);
            reject(error);
          },
        );
      });
    },
    dispose() {
      process.off("beforeExit", onBeforeExit);
      process.off("exit", onProcessExit);
      waiting.clear();
    },
  };
}

/** The frame that called `process.exit`, as `file:line:column`. */
function callerOfExit(stack: string): string | undefined {
  const frames = stack.split("\n").map((line) => line.trim());
  const exit = frames.findIndex((frame) => frame.startsWith("at process.exit "));
  const caller = exit < 0 ? undefined : frames[exit + 1];
  // "at fn (FILE:LINE:COL)" or "at FILE:LINE:COL"
  const match = caller && /^at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/.exec(caller);
  if (!match) return undefined;
  const file = match[1].startsWith("file://") ? fileURLToPath(match[1]) : match[1];
  return `${file}:${match[2]}:${match[3]}`;
}
