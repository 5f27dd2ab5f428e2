/**
 * The `alchemy` function and its companions `alchemy.run`, `alchemy.destroy`,
 * `alchemy.secret` and `alchemy.test`.
 *
 * @module
 */
import { Application } from "./application.js";
import { currentScope, runInScope } from "./context.js";
import { checkDeletionOptions } from "./deletion-options.js";
import { DestroyError, ScopeError, toError } from "./errors.js";
import { destroyTree } from "./finalize.js";
import type { AlchemyOptions, RunOptions } from "./options.js";
import { resourceRefOf } from "./output.js";
import { deleteItems } from "./destroy.js";
import { isScope, type Scope } from "./scope.js";
import { secret } from "./secrets/secret-function.js";
import { startApplication } from "./start-application.js";
import { test } from "../testing/test-scope.js";
import { collectTree, itemsOf, stageOf } from "./tree.js";

/**
 * Runs `fn` in a nested scope named `name` under the current scope, then
 * finalizes that scope (its orphans are deleted) if `fn` succeeded.
 *
 * @example
 * await alchemy.run("backend", async (scope) => {
 *   await Database("db", { ... });
 * });
 * await alchemy.run("reports", { stateStore: (s) => new MemoryStateStore(s) }, async () => { ... });
 */
async function run<T>(name: string, fn: (scope: Scope) => Promise<T> | T): Promise<T>;
async function run<T>(name: string, options: RunOptions, fn: (scope: Scope) => Promise<T> | T): Promise<T>;
async function run<T>(
  name: string,
  optionsOrFn: RunOptions | ((scope: Scope) => Promise<T> | T),
  maybeFn?: (scope: Scope) => Promise<T> | T,
): Promise<T> {
  const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn;
  const options = typeof optionsOrFn === "function" ? {} : optionsOrFn;
  if (typeof fn !== "function") throw new TypeError(`alchemy.run("${name}", ...) needs a function as its last argument.`);
  const parent = currentScope();
  if (!parent || parent.kind === "application") {
    throw new ScopeError(`alchemy.run("${name}") was called outside an application. Call \`await alchemy("my-app")\` first.`);
  }
  const { protect, retain } = checkDeletionOptions({ protect: options.protect, retain: options.retain }, `alchemy.run("${name}")`);
  const deletion = protect === undefined && retain === undefined ? undefined : { protect, retain };
  const scope = parent.openNested(name, options.stateStore, options.credentials, deletion);
  const body = (async () => {
    try {
      const result = await runInScope(scope, () => fn(scope));
      await scope.finalize();
      return result;
    } catch (error) {
      scope.context.fail(toError(error));
      throw error;
    }
  })();
  return parent.runBlock(body);
}

/**
 * Destroys a scope (everything under it) or one resource (and the resources in
 * its scope), in dependency order. Rejects with a {@link DestroyError} listing
 * what could not be deleted; a resource that something else still depends on
 * is not deleted.
 *
 * @example
 * await alchemy.destroy(scope);
 * await alchemy.destroy(await Bucket("tmp", {}));
 */
async function destroy(target: Scope | object): Promise<void> {
  if (isScope(target)) {
    const scope = target instanceof Application ? target.stage : target;
    await scope.settle();
    return destroyTree(scope, "throw");
  }
  const ref = resourceRefOf(target);
  const scope = currentScope();
  if (!ref || !scope) {
    throw new TypeError("alchemy.destroy() takes a scope or a resource output returned by a resource call.");
  }
  const stage = stageOf(scope);
  const owner = await findScope(stage, ref.fqn);
  const state = owner && (await owner.records()).get(ref.id);
  if (!owner || !state) return;
  const items = [...itemsOf(owner, state), ...(await collectTree(owner.existingChild(ref.id, true)))];
  const outcome = await deleteItems(stage, items);
  if (outcome.failures.length) throw new DestroyError(outcome.failures);
}

/** The scope object holding the record `fqn`, walking down from the stage. */
async function findScope(stage: Scope, fqn: string): Promise<Scope | undefined> {
  const parts = fqn.split("/");
  if (parts.slice(0, 2).join("/") !== stage.path) return undefined;
  let scope = stage;
  for (const name of parts.slice(2, -1)) {
    const records = await scope.records();
    scope = scope.children.get(name) ?? scope.existingChild(name, records.has(name));
  }
  return scope;
}

/** The `alchemy` entry point: call it to start an application. */
export interface Alchemy {
  (appName: string, options?: AlchemyOptions): Promise<Application>;
  run: typeof run;
  destroy: typeof destroy;
  secret: typeof secret;
  test: typeof test;
}

/**
 * Starts an application; `alchemy.run` opens nested scopes; `alchemy.destroy`
 * destroys a scope or resource; `alchemy.test` runs a test in an ephemeral scope.
 */
export const alchemy: Alchemy = Object.assign(startApplication, { run, destroy, secret, test });
