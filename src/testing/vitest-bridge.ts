/**
 * The few parts of vitest that `alchemy.test` uses, declared here as structural
 * types so that alchemy never imports vitest. vitest hands a test file its own
 * API as `import.meta.vitest` (the "vitest" module of the file being tested);
 * `alchemy.test(import.meta)` reads it from there.
 *
 * @module
 */

/** A vitest test, as much of it as alchemy reads. */
export interface VitestTask {
  name: string;
  /** Names of the enclosing suites and the test, joined with " > ". */
  fullTestName?: string;
  /** True when the test runs concurrently with others. */
  concurrent?: boolean;
}

/** The context vitest passes to a test function. */
export interface VitestTestContext {
  task: VitestTask;
  /** Aborted when the test times out or the run is cancelled. */
  signal?: AbortSignal;
  onTestFinished(fn: (context: VitestTestContext) => unknown, timeout?: number): void;
}

/** `it(name, fn, timeout)` and friends. */
export type VitestTestFunction = (name: string, fn: (context: VitestTestContext) => Promise<void>, timeout?: number) => void;

/** `it` with the modifiers `alchemy.test`'s factory forwards. */
export type VitestIt = VitestTestFunction & {
  skip: VitestTestFunction;
  only: VitestTestFunction;
  concurrent: VitestTestFunction;
};

/** What `import.meta.vitest` offers, as much of it as alchemy reads. */
export interface VitestApi {
  it: VitestIt;
  /** Runs `fn` with the test's context when the current test ends. */
  onTestFinished(fn: (context: VitestTestContext) => unknown, timeout?: number): void;
  expect: { getState(): { currentTestName?: string } };
  /** Present in vitest 4: its static `getCurrentTest` names the running test. */
  TestRunner?: { getCurrentTest?(): VitestTask | undefined };
}

/** The vitest API of the test file `meta` belongs to, or `undefined` outside vitest. */
export function vitestOf(meta: object): VitestApi | undefined {
  const api = (meta as { vitest?: Partial<VitestApi> }).vitest;
  return typeof api?.it === "function" && typeof api.onTestFinished === "function" ? (api as VitestApi) : undefined;
}

/** The test running now, as far as vitest can tell outside a test's own context. */
export interface RunningTest {
  /** "suite > test"; `undefined` when it cannot be known. */
  name?: string;
  /**
   * True when the test runs concurrently with others: vitest's notion of the
   * current test is then whichever started last, so neither its name nor a
   * hook registered on it can be trusted.
   */
  concurrent: boolean;
}

/** The running test, read from the file's vitest API (form `alchemy.test(import.meta, fn)`). */
export function runningTest(vitest: VitestApi): RunningTest {
  const task = vitest.TestRunner?.getCurrentTest?.();
  if (task?.concurrent) return { concurrent: true };
  const name = task ? (task.fullTestName ?? task.name) : vitest.expect.getState().currentTestName;
  return { name: name || undefined, concurrent: false };
}
