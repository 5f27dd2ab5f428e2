/**
 * Which scope code is running in. Resource calls and `alchemy.run` find their
 * parent here, so user code never passes scopes around by hand.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Scope } from "./scope.js";

const current = new AsyncLocalStorage<Scope>();

/** The scope the caller runs in, or `undefined` outside any application. */
export function currentScope(): Scope | undefined {
  return current.getStore();
}

/** Runs `fn` with `scope` as the current scope. */
export function runInScope<T>(scope: Scope, fn: () => T): T {
  return current.run(scope, fn);
}

/**
 * Makes `scope` current for the rest of the caller's synchronous execution and
 * its continuations; `alchemy()` uses it to enter the stage scope.
 */
export function enterScope(scope: Scope): void {
  current.enterWith(scope);
}
