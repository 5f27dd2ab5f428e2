/**
 * `alchemy.test`: ephemeral test scopes. Each test runs in a fresh stage of a
 * fresh application run, and everything it created is destroyed when it ends,
 * whether it passed, failed or timed out.
 *
 * Naming: the application is the test file's path relative to the working
 * directory (`src/storage/bucket.test.ts` -> `src-storage-bucket.test.ts`); the
 * stage is the `stage` option, else a slug of the test's name
 * (`$ALCHEMY_STAGE-` first when that is set), made unique with `-2`, `-3`, ...
 * against the other tests of the process and the stage locks of other
 * processes. See test-names.ts and ephemeral-run.ts.
 *
 * alchemy does not import vitest: it uses the API vitest gives the test file
 * as `import.meta.vitest`, which is why the file's `import.meta` is passed.
 *
 * @module
 */
import { AlchemyError } from "../core/errors.js";
import type { DestroyStrategy } from "../core/options.js";
import type { Scope } from "../core/scope.js";
import type { StateStoreFactory } from "../state/state-store.js";
import { defaultStore } from "./default-store.js";
import { EphemeralRun, type EphemeralRunSettings } from "./ephemeral-run.js";
import { derivedStage, testAppName, testFileLabel, type TestFileMeta } from "./test-names.js";
import { runningTest, vitestOf, type VitestTestFunction } from "./vitest-bridge.js";

/** Options of `alchemy.test(import.meta, options, ...)`. */
export interface TestScopeOptions {
  /**
   * Stage the test runs in, used exactly as given; a test whose stage another
   * test of the process is using fails.
   * @default a slug of the test's name ("suite > test" -> "suite-test"), after
   *   `$ALCHEMY_STAGE-` when that is set, with `-2`, `-3`, ... when taken;
   *   "test" when the name is unknown
   */
  stage?: string;
  /**
   * How the clean-up orders its deletes.
   * @default "sequential"
   */
  destroyStrategy?: DestroyStrategy;
  /**
   * Where the test's state is kept.
   * @default what `alchemy(...)` uses: the store `$ALCHEMY_STATE_STORE` names,
   *   else `(scope) => new FileSystemStateStore(scope, { dir: `${process.cwd()}/.alchemy` })`,
   *   whose directories are removed once a clean test leaves them empty
   */
  stateStore?: StateStoreFactory;
  /**
   * Print nothing about the test's resources; warnings are still printed.
   * @default true
   */
  quiet?: boolean;
  /**
   * Run providers that have a local runtime on it (Cloudflare resources on
   * Miniflare): a D1Database is a real local database, destroyed with the test.
   * @default $ALCHEMY_LOCAL is "1" or "true"
   */
  local?: boolean;
}

/** The body of a test scope: gets the stage scope its resources are created in. */
export type TestScopeFunction<T = unknown> = (scope: Scope) => Promise<T> | T;

/** `test(name, fn, timeout?)`: defines a vitest test whose body runs in a test scope. */
export type ScopedTestFunction = (name: string, fn: TestScopeFunction, timeout?: number) => void;

/**
 * What `alchemy.test(import.meta)` returns: a vitest `it` whose tests run in
 * test scopes, with `skip`, `only` and `concurrent`.
 */
export interface ScopedTest extends ScopedTestFunction {
  skip: ScopedTestFunction;
  only: ScopedTestFunction;
  concurrent: ScopedTestFunction;
}

/**
 * Runs `fn` in a fresh test scope and destroys what it created when it
 * settles, or when vitest ends the test (a timeout). Resolves with `fn`'s
 * result; rejects with `fn`'s own error if it threw, else with a
 * `TestCleanupError` naming each resource that could not be destroyed.
 *
 * Called without `fn`, returns a `test(name, fn, timeout?)` that defines vitest
 * tests, each running its body this way (the form to use in concurrent tests:
 * there vitest cannot tell `alchemy.test(import.meta, fn)` which test calls it).
 *
 * @example
 * it("writes the file", async () => {
 *   await alchemy.test(import.meta, async (scope) => {
 *     const file = await File("f", { path: "out/f.txt", content: "hi" });
 *     expect(readFileSync(file.path, "utf8")).toBe("hi");
 *   });
 * });
 *
 * @example
 * const test = alchemy.test(import.meta, { destroyStrategy: "parallel" });
 * test("writes the file", async (scope) => {
 *   await File("f", { path: "out/f.txt", content: "hi" });
 * });
 */
export function test<T>(meta: TestFileMeta, fn: TestScopeFunction<T>): Promise<T>;
export function test<T>(meta: TestFileMeta, options: TestScopeOptions, fn: TestScopeFunction<T>): Promise<T>;
export function test(meta: TestFileMeta, options?: TestScopeOptions): ScopedTest;
export function test<T>(
  meta: TestFileMeta,
  optionsOrFn?: TestScopeOptions | TestScopeFunction<T>,
  maybeFn?: TestScopeFunction<T>,
): Promise<T> | ScopedTest {
  if (typeof meta?.url !== "string") {
    throw new TypeError("alchemy.test(import.meta, ...) takes the test file's own import.meta as its first argument.");
  }
  if (typeof optionsOrFn === "function") return runTestScope(meta, {}, optionsOrFn);
  const options = checkOptions(optionsOrFn ?? {});
  if (typeof maybeFn === "function") return runTestScope(meta, options, maybeFn);
  if (maybeFn !== undefined) throw new TypeError("alchemy.test(import.meta, options, fn) needs a function as its last argument.");
  return scopedTest(meta, options);
}

/** `alchemy.test(import.meta, [options], fn)`, inside a vitest test or anywhere else. */
function runTestScope<T>(meta: TestFileMeta, options: TestScopeOptions, fn: TestScopeFunction<T>): Promise<T> {
  const vitest = vitestOf(meta);
  const running = vitest ? runningTest(vitest) : { concurrent: false, name: undefined };
  let run: EphemeralRun;
  try {
    run = new EphemeralRun(settingsOf(meta, options, running.name));
  } catch (error) {
    return Promise.reject(error); // e.g. an $ALCHEMY_STATE_STORE that is no store URL
  }
  // Before any await: vitest ties the hook to the test running now. In a
  // concurrent test that may be another one, so the hook is left out there.
  if (vitest && !running.concurrent) {
    try {
      vitest.onTestFinished((context) => run.finished(context?.signal?.aborted === true));
    } catch {
      // Not inside a test (e.g. in beforeAll): cleaned up when fn settles.
    }
  }
  return run.run(fn);
}

/** `alchemy.test(import.meta, [options])`: the factory of scoped vitest tests. */
function scopedTest(meta: TestFileMeta, options: TestScopeOptions): ScopedTest {
  const vitest = vitestOf(meta);
  if (!vitest) {
    throw new AlchemyError(
      `alchemy.test(import.meta) defines vitest tests: run this file with vitest (${testFileLabel(meta)}). ` +
        "vitest gives its API to the test file it runs only, so pass that file's own import.meta; " +
        "outside vitest, use alchemy.test(import.meta, fn) to run one test scope.",
    );
  }
  const define =
    (it: VitestTestFunction, how: string): ScopedTestFunction =>
    (name, fn, timeout) => {
      if (typeof name !== "string" || typeof fn !== "function") {
        throw new TypeError(`test${how}(name, fn, timeout?) from alchemy.test(import.meta) takes a test name and a function.`);
      }
      it(
        name,
        async (context) => {
          const run = new EphemeralRun(settingsOf(meta, options, context.task.fullTestName ?? context.task.name));
          context.onTestFinished(() => run.finished(context.signal?.aborted === true));
          context.signal?.addEventListener("abort", () => run.abort(), { once: true });
          await run.run(fn);
        },
        timeout,
      );
    };
  return Object.assign(define(vitest.it, ""), {
    skip: define(vitest.it.skip, ".skip"),
    only: define(vitest.it.only, ".only"),
    concurrent: define(vitest.it.concurrent, ".concurrent"),
  });
}

function settingsOf(meta: TestFileMeta, options: TestScopeOptions, testName: string | undefined): EphemeralRunSettings {
  // Passed explicitly even when it is the default, so that CI runs do not warn that their state is lost with the runner.
  const store = options.stateStore ? { key: options.stateStore, factory: options.stateStore, stateDir: undefined } : defaultStore();
  return {
    appName: testAppName(meta),
    file: testFileLabel(meta),
    stage: options.stage ?? derivedStage(testName),
    explicitStage: options.stage !== undefined,
    store: store.key,
    factory: store.factory,
    stateDir: store.stateDir,
    destroyStrategy: options.destroyStrategy,
    quiet: options.quiet ?? true,
    ...(options.local !== undefined ? { local: options.local } : {}),
  };
}

function checkOptions(options: TestScopeOptions): TestScopeOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("alchemy.test(import.meta, options) takes an options object: { stage, destroyStrategy, stateStore, quiet, local }.");
  }
  const { stage, stateStore, quiet, local } = options;
  if (local !== undefined && typeof local !== "boolean") throw new TypeError(`alchemy.test: the local option must be a boolean, got ${typeof local}.`);
  if (stage !== undefined && typeof stage !== "string") throw new TypeError(`alchemy.test: the stage option must be a string, got ${typeof stage}.`);
  if (stateStore !== undefined && typeof stateStore !== "function") {
    throw new TypeError("alchemy.test: the stateStore option must be a function (scope) => StateStore.");
  }
  if (quiet !== undefined && typeof quiet !== "boolean") throw new TypeError(`alchemy.test: the quiet option must be a boolean, got ${typeof quiet}.`);
  return options;
}
