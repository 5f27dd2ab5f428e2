/**
 * The `alchemy` function and its companions `alchemy.run` and `alchemy.destroy`.
 *
 * @module
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FileSystemStateStore } from "../state/fs/fs-state-store.js";
import { Application } from "./application.js";
import { currentScope, enterScope, runInScope } from "./context.js";
import { AlchemyError, ScopeError, toError } from "./errors.js";
import { currentLaunch, LAUNCHED_ENV, type Launch } from "./launch.js";
import { destroyTree } from "./finalize.js";
import { assertValidName } from "./names.js";
import { resolveOptions, type AlchemyOptions, type ResolvedOptions, type RunOptions } from "./options.js";
import { checkStageProfile, loadAlchemyConfig } from "./profiles/index.js";
import { resourceRefOf } from "./output.js";
import { deleteItems } from "./destroy.js";
import { DestroyError } from "./errors.js";
import { RunContext } from "./run-context.js";
import { isScope, type Scope } from "./scope.js";
import { lockStage, wantsLock } from "./stage-locking.js";
import { firstSealedPath } from "./secrets/secret-codec.js";
import { Secret } from "./secrets/secret.js";
import { SecretError } from "./secrets/secret-error.js";
import { collectTree, itemsOf, stageOf } from "./tree.js";

/**
 * Starts an application run: makes the application scope, enters its stage
 * scope (top-level resources go there) and loads the stage's state.
 *
 * @example
 * const app = await alchemy("my-app", { stage: "prod" });
 * await Worker("api", { ... });
 * await app.finalize();
 */
function startApplication(appName: string, options: AlchemyOptions = {}): Promise<Application> {
  assertValidName(appName, "application", String(appName));
  const launch = currentLaunch();
  if (!launch && process.env[LAUNCHED_ENV] === String(process.pid)) {
    throw new AlchemyError(
      `Application "${appName}" was started by the alchemy command line, but the program imports another copy of the alchemy package ` +
        `(${fileURLToPath(import.meta.url)}) than the command line runs, so its flags would be ignored. ` +
        "Run the alchemy binary of the project's own dependency (npx alchemy), or import alchemy from the same installation.",
    );
  }
  const resolved = resolveOptions(appName, options, process.env, launch);
  assertValidName(resolved.stage, "stage", appName);
  const dir = path.join(resolved.rootDir, ".alchemy");
  const factory = resolved.stateStore ?? ((scope) => new FileSystemStateStore(scope, { dir }));
  const app = new Application(new RunContext(resolved), factory);
  launch?.applications.push(app);
  // Synchronously, so that the caller's code after `await alchemy(...)` runs in the stage.
  enterScope(app.stage);
  const ready = async () => {
    // Before any credential or state is read.
    checkProfileAllowed(appName, resolved);
    if (wantsLock(app.context)) app.stageLock = await lockStage(app.stage, launch?.command ?? `node (${appName} program)`);
    // A wrong password fails here, before any record is used or any handler runs.
    await app.context.secrets.check(() => firstSealedValue(app));
    await app.stage.records();
    if (launch && resolved.phase === "destroy") await previewDestroy(app, launch);
    return app;
  };
  return ready().catch((error) => {
    app.context.fail(toError(error));
    throw error;
  });
}

/** Fails unless the run's profile may touch its stage, by the program's mapping and the project's alchemy.config.json. */
function checkProfileAllowed(appName: string, options: ResolvedOptions): void {
  const user = process.env.USER;
  if (options.stageProfileMapping) {
    checkStageProfile(options.stage, options.profile, options.stageProfileMapping, { user, source: `the stageProfileMapping of application "${appName}"` });
  }
  const config = loadAlchemyConfig(options.rootDir);
  if (config?.stageProfileMapping) checkStageProfile(options.stage, options.profile, config.stageProfileMapping, { user, source: config.file });
}

/** The first encrypted value among the stage's own records, as stored. */
async function firstSealedValue(app: Application): Promise<{ fqn: string; path: string } | undefined> {
  const store = app.stage.store;
  await store.init?.();
  for (const state of Object.values(await store.all())) {
    const path = firstSealedPath(state);
    if (path) return { fqn: state.fqn, path };
  }
  return undefined;
}

/**
 * Wraps a sensitive string: it prints as `[secret]`, and is stored encrypted
 * with the run's password (`ALCHEMY_PASSWORD` or the `password` option).
 * Inside an application without a password this throws at once, before any
 * resource that would store it is created.
 *
 * @example
 * const token = alchemy.secret(process.env.API_TOKEN);
 */
function secret(value: string): Secret {
  const wrapped = new Secret(value);
  const scope = currentScope();
  if (scope && scope.context.options.password === undefined && scope.phase !== "plan" && scope.phase !== "read") {
    const { appName, stage } = scope.context.options;
    throw new SecretError(
      `alchemy.secret() was called in application "${appName}" (stage "${stage}") without a password, so the secret could not be stored encrypted. ` +
        "Set ALCHEMY_PASSWORD (or pass `password` to alchemy()) and keep it: the stage's secrets open only with it.",
      "no-password",
    );
  }
  return wrapped;
}

/** Under a launch, refuses to destroy an empty stage and asks for confirmation. */
async function previewDestroy(app: Application, launch: Launch): Promise<void> {
  const { appName, stage } = app.context.options;
  const resources = (await collectTree(app.stage)).filter((item) => item.replacedIndex === undefined).length;
  if (resources === 0 && launch.requireState) {
    throw new AlchemyError(
      `Stage "${stage}" of application "${appName}" has no state, so there is nothing to destroy. ` +
        "Check the stage name (alchemy state stages lists the recorded ones) and the state store the program uses.",
    );
  }
  if (launch.confirmDestroy && !(await launch.confirmDestroy({ appName, stage, resources }))) {
    throw new AlchemyError(`Destroy of stage "${stage}" of application "${appName}" cancelled; nothing was deleted.`);
  }
}

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
  const scope = parent.openNested(name, options.stateStore, options.credentials);
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
  parent.pending.add(body);
  try {
    return await body;
  } finally {
    parent.pending.delete(body);
  }
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
  const outcome = await deleteItems(stage, items, "fail");
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
}

/**
 * Starts an application; `alchemy.run` opens nested scopes; `alchemy.destroy`
 * destroys a scope or resource.
 */
export const alchemy: Alchemy = Object.assign(startApplication, { run, destroy, secret });
