/**
 * Options of an application run, and how their defaults are resolved.
 *
 * @module
 */
import { DEFAULT_HISTORY_LIMIT } from "../history/history-entry.js";
import { DEFAULT_MAX_DELETES, parseMaxDeletes, type DeleteLimit, type MaxDeletes } from "./deletion-guard.js";
import path from "node:path";
import type { StateStoreFactory } from "../state/state-store.js";
import { parseStoreUrl, storeFactory } from "../state/store-url.js";
import { AlchemyError, OptionConflictError } from "./errors.js";
import type { Drift } from "./drift.js";
import type { RunEvent } from "./events.js";
import type { Launch, LaunchOptions } from "./launch.js";
import type { Services } from "./services.js";
import { validateStageProfileMapping, type CredentialOverride, type StageProfileMapping } from "./profiles/index.js";

/** What a run does with the program's resources. */
export type Phase = "up" | "destroy" | "read" | "plan" | "refresh";

/** How destroy and orphan clean-up order their deletes. */
export type DestroyStrategy = "sequential" | "parallel";

/** Options of `alchemy(appName, options)`. */
export interface AlchemyOptions {
  /**
   * Stage to deploy; isolates environments.
   * @default process.env.ALCHEMY_STAGE ?? process.env.USER ?? "dev"
   */
  stage?: string;
  /**
   * `up` creates, updates and deletes; `destroy` destroys the stage at finalize;
   * `read` returns recorded outputs; `plan` reports what `up` would do;
   * `refresh` records what each declared resource's `read` finds (drifted
   * props and outputs, a gone resource's record removed) and changes no
   * resource (see {@link refresh}).
   * @default "up"
   */
  phase?: Phase;
  /**
   * In the `plan` and `up` phases: read every recorded resource the program
   * declares before deciding what to do with it, report what was changed or
   * deleted outside alchemy (drift, to `onDrift`), and decide from what was
   * found: a drifted resource is updated back to what the program says, a gone
   * one created again. Records of resources the program no longer declares
   * are not read (they are deleted anyway).
   * @default false
   * @example
   * const app = await alchemy("shop", { phase: "plan", refresh: true, onDrift: (d) => console.log(d.status, d.fqn) });
   */
  refresh?: boolean;
  /** Receives what a refresh found of each record it read (every status, `in-sync` included). */
  onDrift?: (drift: Drift) => void;
  /**
   * Deletes one at a time, or independent resources concurrently.
   * @default "sequential"
   */
  destroyStrategy?: DestroyStrategy;
  /**
   * Most deletes in flight at once under the "parallel" strategy.
   * @default 16
   */
  concurrency?: number;
  /**
   * Makes the state store of each scope.
   * @default the store the URL in `$ALCHEMY_STATE_STORE` names (`file:<dir>`,
   *   `sqlite:<file>`, `postgres://...`), else
   *   `(scope) => new FileSystemStateStore(scope, { dir: `${rootDir}/.alchemy` })`
   */
  stateStore?: StateStoreFactory;
  /**
   * Directory the default state store and relative provider paths resolve against.
   * @default process.cwd()
   */
  rootDir?: string;
  /**
   * Update every resource even when its props are unchanged.
   * @default false
   */
  force?: boolean;
  /**
   * Let create handlers take over resources that already exist.
   * @default false
   */
  adopt?: boolean;
  /**
   * Let a deploy's orphan clean-up delete more than {@link maxDeletes}
   * (`--allow-deletes`). It does not lift `protect`.
   * @default false
   */
  allowDeletes?: boolean;
  /**
   * The most a deploy's orphan clean-up may delete before it stops, deleting
   * nothing: a count of resources, or a percentage of the stage's records
   * (a percentage never stops fewer than 5 deletions). Replaced instances and
   * retained resources are not counted; `alchemy destroy` is not limited.
   * @default "50%"
   */
  maxDeletes?: MaxDeletes;
  /**
   * How many runs the stage's history keeps (see README, History): each run
   * that changes the stage appends one entry, and older ones are dropped.
   * 0 keeps no history (existing entries are left as they are).
   * @default 100
   * @example
   * await alchemy("my-app", { historyLimit: 500 });
   */
  historyLimit?: number;
  /**
   * Print nothing but warnings and errors.
   * @default false
   */
  quiet?: boolean;
  /** Receives one event per resource action, e.g. for a progress display. */
  onEvent?: (event: RunEvent) => void;
  /**
   * Stops the run when aborted: no new create, update or delete starts, those
   * in flight finish and are recorded, and finalize deletes nothing.
   */
  signal?: AbortSignal;
  /**
   * Password the stage's secrets are encrypted with (`alchemy.secret()`);
   * needed only where secrets are stored or read.
   * @default process.env.ALCHEMY_PASSWORD
   */
  password?: string;
  /**
   * Credential profile providers take their credentials from (`$ALCHEMY_HOME/profiles.json`).
   * @default process.env.ALCHEMY_PROFILE ?? "default"
   */
  profile?: string;
  /**
   * Which profiles may touch which stage: keys are stage names, globs
   * (`pr-*`) or `$USER`; values list the allowed profiles. A run whose
   * (stage, profile) pair is not allowed fails before any credential or state
   * is read. `alchemy.config.json` in `rootDir` may hold one too; both apply.
   */
  stageProfileMapping?: Record<string, string[]>;
  /**
   * Lock the stage for the run, so that two runs never write it at once. A
   * store that cannot lock is used unlocked (with a warning when this is `true`).
   * @default true for the "up", "destroy" and "refresh" phases, false for "plan" and "read"
   */
  stateLocking?: boolean;
  /**
   * How long the stage lock stays valid without a heartbeat; a run that dies
   * holding it blocks the stage this long (on the filesystem store a dead
   * local process is detected at once).
   * @default 30_000
   */
  lockLeaseMs?: number;
  /**
   * How long to wait for a stage another run has locked before failing.
   * @default 0 (fail at once)
   */
  lockTimeoutMs?: number;
  /**
   * Run providers that have a local runtime on it instead of the cloud
   * (Cloudflare resources on Miniflare): no credentials needed, nothing
   * deployed anywhere but this machine.
   * @default process.env.ALCHEMY_LOCAL is "1" or "true"
   */
  local?: boolean;
}

/** Options of `alchemy.run(name, options, fn)`. */
export interface RunOptions {
  /** Store for this scope and the scopes below it. */
  stateStore?: StateStoreFactory;
  /** Credentials for providers in this scope and below, replacing the profile's settings per provider. */
  credentials?: Record<string, CredentialOverride>;
  /** `protect: true` for every resource declared in this scope and below (a resource's own option wins). */
  protect?: boolean;
  /** `retain: true` for every resource declared in this scope and below (a resource's own option wins). */
  retain?: boolean;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  appName: string;
  stage: string;
  phase: Phase;
  destroyStrategy: DestroyStrategy;
  concurrency: number;
  rootDir: string;
  force: boolean;
  adopt: boolean;
  allowDeletes: boolean;
  maxDeletes: DeleteLimit;
  /** Runs the stage's history keeps (see {@link AlchemyOptions.historyLimit}). */
  historyLimit: number;
  quiet: boolean;
  stateStore?: StateStoreFactory;
  password?: string;
  /** Credential profile: `profile`, else `$ALCHEMY_PROFILE`, else "default". */
  profile: string;
  stageProfileMapping?: StageProfileMapping;
  onEvent?: (event: RunEvent) => void;
  onWarning?: (message: string) => void;
  /** Read recorded resources before deciding (`plan`, `up`; see {@link AlchemyOptions.refresh}). */
  refresh: boolean;
  onDrift?: (drift: Drift) => void;
  signal?: AbortSignal;
  stateLocking?: boolean;
  lockLeaseMs: number;
  lockTimeoutMs: number;
  /** Print the summary line at finalize (a launcher prints its own). */
  printSummary: boolean;
  /** Providers run on their local runtime (see {@link AlchemyOptions.local}). */
  local: boolean;
  /** Services shared with other runs, owned (and disposed) by the launcher; else the run starts its own. */
  services?: Services;
}

const PHASES: readonly Phase[] = ["up", "destroy", "read", "plan", "refresh"];

/**
 * Applies defaults and rejects contradictory or unsupported options. Under a
 * launch, its options come after the program's explicit ones and before the
 * environment.
 */
export function resolveOptions(appName: string, explicit: AlchemyOptions, env: NodeJS.ProcessEnv, launch?: Launch): ResolvedOptions {
  const options = launch ? withLaunch(appName, explicit, launch) : explicit;
  const phase = options.phase ?? "up";
  if (!PHASES.includes(phase)) {
    throw new AlchemyError(`Unknown phase ${JSON.stringify(phase)} for application "${appName}": use one of ${PHASES.join(", ")}.`);
  }
  const destroyStrategy = options.destroyStrategy ?? "sequential";
  if (destroyStrategy !== "sequential" && destroyStrategy !== "parallel") {
    throw new AlchemyError(
      `Unknown destroyStrategy ${JSON.stringify(destroyStrategy)} for application "${appName}": use "sequential" or "parallel".`,
    );
  }
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new AlchemyError(`concurrency must be a positive integer for application "${appName}", got ${concurrency}.`);
  }
  const stageProfileMapping =
    options.stageProfileMapping === undefined
      ? undefined
      : validateStageProfileMapping(options.stageProfileMapping, `the stageProfileMapping option of application "${appName}"`);
  const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(historyLimit) || historyLimit < 0) {
    throw new AlchemyError(`historyLimit must be a whole number of runs (0 or more) for application "${appName}", got ${historyLimit}. Use 0 to keep no history.`);
  }
  for (const key of ["lockLeaseMs", "lockTimeoutMs"] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new AlchemyError(`${key} must be a number of milliseconds (0 or more) for application "${appName}", got ${value}.`);
    }
  }
  return {
    appName,
    stage: options.stage ?? (env.ALCHEMY_STAGE || env.USER || "dev"),
    phase,
    destroyStrategy,
    concurrency,
    rootDir: path.resolve(options.rootDir ?? process.cwd()),
    force: options.force ?? false,
    adopt: options.adopt ?? false,
    allowDeletes: options.allowDeletes ?? false,
    maxDeletes: parseMaxDeletes(options.maxDeletes ?? DEFAULT_MAX_DELETES, `application "${appName}"`),
    historyLimit,
    quiet: options.quiet ?? false,
    stateStore: options.stateStore ?? storeFromEnv(appName, env, options.rootDir),
    profile: options.profile ?? (env.ALCHEMY_PROFILE || "default"),
    password: options.password ?? (env.ALCHEMY_PASSWORD || undefined),
    stageProfileMapping,
    stateLocking: options.stateLocking,
    lockLeaseMs: options.lockLeaseMs ?? 30_000,
    lockTimeoutMs: options.lockTimeoutMs ?? 0,
    onEvent: launch?.onEvent ?? options.onEvent,
    onWarning: launch?.onWarning,
    refresh: options.refresh ?? false,
    onDrift: launch?.onDrift ?? options.onDrift,
    signal: anySignal(options.signal, launch?.signal),
    printSummary: !launch && !(options.quiet ?? false),
    local: options.local ?? isTrue(env.ALCHEMY_LOCAL),
    services: launch?.services,
  };
}

/** The program's options with the launch's filled in where the program is silent. */
function withLaunch(appName: string, explicit: AlchemyOptions, launch: Launch): AlchemyOptions {
  const merged: AlchemyOptions = { ...explicit };
  for (const key of Object.keys(launch.options) as (keyof LaunchOptions)[]) {
    const flag = launch.options[key];
    if (flag === undefined) continue;
    const pinned = explicit[key];
    if (pinned === undefined) {
      (merged as Record<string, unknown>)[key] = flag;
    } else if (pinned !== flag) {
      const spelled = launch.spelledAs[key] ?? `${key} ${JSON.stringify(flag)}`;
      const value = typeof pinned === "function" ? "(a store factory)" : JSON.stringify(pinned);
      throw new OptionConflictError(
        `${spelled} contradicts ${key}: ${value} set by application "${appName}" in the program. ` +
          `Nothing was run. Drop the flag, or change (or stop pinning) ${key} in the program.`,
        key,
        appName,
      );
    }
  }
  return merged;
}

/** The store `$ALCHEMY_STATE_STORE` names (a store URL), resolved against `rootDir`. */
function storeFromEnv(appName: string, env: NodeJS.ProcessEnv, rootDir: string | undefined): StateStoreFactory | undefined {
  const url = env.ALCHEMY_STATE_STORE;
  if (!url) return undefined;
  try {
    return storeFactory(parseStoreUrl(url, path.resolve(rootDir ?? process.cwd())));
  } catch (error) {
    throw new AlchemyError(
      `$ALCHEMY_STATE_STORE of application "${appName}" is not a store URL: ${(error as Error).message} Fix or unset the variable.`,
      { cause: error },
    );
  }
}

function isTrue(value: string | undefined): boolean {
  return value === "1" || value?.toLowerCase() === "true";
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : (a ?? b);
}
