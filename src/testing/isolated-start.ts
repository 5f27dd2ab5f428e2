/**
 * Starting an application without making it the caller's current scope.
 *
 * `alchemy(...)` enters its stage scope for the rest of the caller's execution
 * (AsyncLocalStorage `enterWith`), which is what a program wants and what a
 * test scope must not do: the test's own code, and the tests after it, would
 * find a finished run's stage as their current scope. Worse, the first such
 * call of a process may run where Node has no async resource of its own for
 * the continuation (promises made before the storage was first used) and would
 * set the store of the process's top-level resource, seen everywhere. Starting
 * inside an async resource of its own confines it.
 *
 * @module
 */
import { AsyncResource } from "node:async_hooks";
import type { Application } from "../core/application.js";
import type { AlchemyOptions } from "../core/options.js";
import { startApplication } from "../core/start-application.js";

/**
 * `alchemy(appName, options)`, leaving the caller's current scope as it was.
 *
 * @example
 * const app = await startIsolated("bucket.test.ts", { stage: "uploads" });
 * await runInScope(app.stage, () => fn(app.stage));
 */
export function startIsolated(appName: string, options: AlchemyOptions): Promise<Application> {
  return new AsyncResource("alchemy.test").runInAsyncScope(() => startApplication(appName, options));
}
