/**
 * `alchemy(appName, options)`: starting an application run. In order: options
 * resolved (program > launch > environment > default), the stage/profile
 * mappings checked (the program's, alchemy.config.json's, the one the stage
 * recorded), the stage locked, a deploy's mapping recorded, the secrets
 * password checked, the stage's records loaded and its store's warnings
 * reported; under a launch's deploy, a new stage of an application that has
 * others reported; under a launch's destroy, an empty stage refused and the
 * destroy confirmed.
 *
 * @module
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FileSystemStateStore } from "../state/fs/fs-state-store.js";
import { Application } from "./application.js";
import { enterScope } from "./context.js";
import { AlchemyError, DestroyCancelledError, ProtectedResourceError, toError } from "./errors.js";
import { currentLaunch, LAUNCHED_ENV, type Launch } from "./launch.js";
import { assertValidName } from "./names.js";
import { resolveOptions, type AlchemyOptions, type ResolvedOptions } from "./options.js";
import { callingProgramFile } from "./profiles/calling-program.js";
import { checkMappings, programMappings, type SourcedMapping } from "./profiles/mapping-sources.js";
import { checkStageStore, recordStageProfiles } from "./profiles/recorded-mapping.js";
import { RunContext } from "./run-context.js";
import { firstSealedPath } from "./secrets/secret-codec.js";
import { lockStage, wantsLock } from "./stage-locking.js";
import { lastDeployOf } from "./last-deploy.js";
import { nestedStoresOf, recordsNotWalked } from "./nested-stores.js";
import { collectTree } from "./tree.js";
import { protectedAmong } from "./deletion-item.js";

/**
 * Starts an application run: makes the application scope, enters its stage
 * scope (top-level resources go there) and loads the stage's state. A start
 * that fails (a profile denied, a wrong password, an unreadable record, a
 * destroy cancelled) rejects only once the stage's lock is released and its
 * stores are closed, so the next run finds the stage free.
 *
 * @example
 * const app = await alchemy("my-app", { stage: "prod" });
 * await Worker("api", { ... });
 * await app.finalize();
 */
export function startApplication(appName: string, options: AlchemyOptions = {}): Promise<Application> {
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
  // Synchronously, while the program's call is still on the stack.
  const programFile = callingProgramFile();
  assertValidName(resolved.stage, "stage", appName);
  const dir = path.join(resolved.rootDir, ".alchemy");
  const factory = resolved.stateStore ?? ((scope) => new FileSystemStateStore(scope, { dir }));
  const app = new Application(new RunContext(resolved), factory);
  launch?.applications.push(app);
  if (!resolved.stateStore && process.env.CI === "true" && (resolved.phase === "up" || resolved.phase === "destroy")) {
    app.context.warn(
      `Application "${appName}" keeps its state in ${dir} on this CI runner, which is lost when the job ends: the next run would create everything again, ` +
        "and a destroy would find nothing. Name a shared store in ALCHEMY_STATE_STORE (e.g. a postgres://... URL kept in a CI secret), " +
        "or pass stateStore in the program.",
    );
  }
  // Synchronously, so that the caller's code after `await alchemy(...)` runs in the stage.
  enterScope(app.stage);
  const ready = async () => {
    // Before any credential or state is read, and before the stage is locked.
    const mappings = await checkProfileAllowed(app, resolved, programFile);
    app.command = launch?.command ?? `node (${appName} program)`;
    if (wantsLock(app.context)) app.stageLock = await lockStage(app.stage, app.command);
    if (resolved.phase === "up") await recordStageProfiles(app.stage.store, resolved.stage, resolved.profile, mappings, { user: process.env.USER });
    // A wrong password fails here, before any record is used or any handler runs.
    await app.context.secrets.check(() => firstSealedValue(app));
    await app.stage.records();
    reportStoreWarnings(app, launch); // the stage's store is open now
    if (launch?.onNewStage && resolved.phase === "up") await reportNewStage(app, launch.onNewStage);
    app.started = true;
    if (launch && resolved.phase === "destroy") await previewDestroy(app, launch);
    return app;
  };
  return ready().catch(async (error: unknown) => {
    app.context.fail(toError(error));
    // The caller never gets the application, so nothing else would let the stage go: release its
    // lock and close its stores now, or the next run would wait out this one's lease and take it over.
    await app.release();
    throw error;
  });
}

/**
 * Fails unless the run's profile may use its stage by every mapping that
 * applies (see `profiles/mapping-sources.ts`): the program's, the
 * alchemy.config.json beside the program file and in rootDir, then the one
 * the stage's store recorded, of which only the stage's metadata is read.
 *
 * @returns the program's mappings, which a deploy records.
 */
async function checkProfileAllowed(app: Application, options: ResolvedOptions, programFile: string | undefined): Promise<SourcedMapping[]> {
  const user = process.env.USER;
  const mappings = programMappings(options.appName, { stageProfileMapping: options.stageProfileMapping, rootDir: options.rootDir, programFile });
  checkMappings(options.stage, options.profile, mappings, { user });
  await checkStageStore(app.stage.store, options.stage, options.profile, { user });
  return mappings;
}

/** Warnings already reported, per launch (or per run without one): applications sharing a state directory warn once. */
const reportedWarnings = new WeakMap<object, Set<string>>();

/** Reports each of the stage store's warnings (a state directory others may write to) once. */
function reportStoreWarnings(app: Application, launch: Launch | undefined): void {
  const key = launch ?? app.context;
  let reported = reportedWarnings.get(key);
  if (reported === undefined) reportedWarnings.set(key, (reported = new Set()));
  for (const message of app.stage.store.warnings?.() ?? []) {
    if (reported.has(message)) continue;
    reported.add(message);
    app.context.warn(message);
  }
}

/**
 * Tells `report` when the run is about to create its stage (the
 * application's store holds no record of it, nested scopes included, and its
 * metadata names no nested scope on another store) while the store holds
 * other stages of the application: a mistyped `--stage` would otherwise
 * create a stage without a word.
 */
async function reportNewStage(app: Application, report: NonNullable<Launch["onNewStage"]>): Promise<void> {
  if ((await app.stage.records()).size > 0) return;
  // Records kept only by nested scopes on other stores are named in the stage's metadata.
  if (Object.keys(nestedStoresOf(await app.stage.store.getStageMeta?.())).length > 0) return;
  let existing: string[];
  try {
    const store = app.store;
    await store.init?.();
    existing = await store.listScopes();
  } catch {
    // An advisory line: a store that cannot list the application's stages (a custom store made for stage scopes only) does not stop the deploy.
    return;
  }
  const { appName, stage } = app.context.options;
  if (existing.length > 0 && !existing.includes(stage)) report({ appName, stage, existing: existing.sort() });
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

/** Under a launch, refuses to destroy an empty stage or one holding a protected resource, then asks for confirmation. */
async function previewDestroy(app: Application, launch: Launch): Promise<void> {
  const { appName, stage } = app.context.options;
  const items = await collectTree(app.stage);
  const meta = await app.stage.store.getStageMeta?.();
  // Nested scopes on other stores are opened only when their blocks run, after this.
  const resources = items.filter((item) => item.replacedIndex === undefined).length + recordsNotWalked(meta, items);
  if (resources === 0 && launch.requireState) {
    throw new AlchemyError(
      `Stage "${stage}" of application "${appName}" has no state, so there is nothing to destroy. ` +
        "Check the stage name (alchemy state stages lists the recorded ones) and the state store the program uses.",
    );
  }
  // A destroy that would stop at a protected resource says so before asking anything.
  const protectedFqns = protectedAmong(items);
  if (protectedFqns.length > 0) throw new ProtectedResourceError(protectedFqns, "delete");
  const lastDeploy = lastDeployOf(meta);
  if (launch.confirmDestroy && !(await launch.confirmDestroy({ appName, stage, resources, lastDeploy }))) {
    throw new DestroyCancelledError(appName, stage);
  }
}
