/**
 * A launch: what a launcher (the `alchemy` command line) asks of the
 * applications a user's program starts. The launcher parses its flags once,
 * then evaluates the program inside {@link runLaunched}; every `alchemy(...)`
 * call made by that program picks the launch up from the async context. The
 * engine itself never reads `process.argv`.
 *
 * Precedence of each option: explicit value in the program > launch (a CLI
 * flag) > environment variable > default. A flag that contradicts an explicit
 * value in the program is an error, never silently overridden either way.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Application } from "./application.js";
import type { Drift } from "./drift.js";
import type { RunEvent } from "./events.js";
import type { LastDeploy } from "./last-deploy.js";
import type { DestroyStrategy, Phase } from "./options.js";
import type { StateStoreFactory } from "../state/state-store.js";
import type { Services } from "./services.js";

/** Options a launcher may set; each maps to the `alchemy(...)` option of the same name. */
export interface LaunchOptions {
  stage?: string;
  phase?: Phase;
  profile?: string;
  force?: boolean;
  adopt?: boolean;
  allowDeletes?: boolean;
  concurrency?: number;
  destroyStrategy?: DestroyStrategy;
  lockTimeoutMs?: number;
  /** The store `--state` names, for a program that sets none. */
  stateStore?: StateStoreFactory;
  /** `--local`: providers run on their local runtime. */
  local?: boolean;
  /** `--refresh` (plan, deploy): read recorded resources before deciding. */
  refresh?: boolean;
}

/** What a destroy is about to delete, for a confirmation prompt. */
export interface DestroyPreview {
  appName: string;
  stage: string;
  /** Records in the stage, nested scopes included. */
  resources: number;
  /** The stage's last deploy, as its metadata records it (read under the stage's lock). */
  lastDeploy?: LastDeploy;
}

/** A stage a deploy is about to create while the application's store holds others. */
export interface NewStage {
  appName: string;
  stage: string;
  /** The stages the store holds records of, sorted. */
  existing: string[];
}

/** One launch of a program. */
export interface Launch {
  options: LaunchOptions;
  /** The command line as typed, recorded as the stage lock's holder command. */
  command?: string;
  /** How the user spelled each option, for error messages: `{ stage: "--stage prod" }`. */
  spelledAs: Partial<Record<keyof LaunchOptions, string>>;
  /** Receives every resource event (the engine then prints nothing itself). */
  onEvent: (event: RunEvent) => void;
  /** Receives what a refresh found of each record (the engine then prints no drift itself). */
  onDrift?: (drift: Drift) => void;
  /** Receives warnings the engine would otherwise print to stderr. */
  onWarning?: (message: string) => void;
  /** Aborted on Ctrl-C: no new operation starts; those in flight finish and are recorded. */
  signal?: AbortSignal;
  /** In the destroy phase, a stage without any record is an error rather than a no-op. */
  requireState?: boolean;
  /**
   * In the up phase, told when the run is about to create a stage the
   * application's store does not hold while it holds others (a mistyped
   * `--stage` shows); not told for an application's first stage.
   */
  onNewStage?: (stage: NewStage) => void;
  /** In the destroy phase, asked before anything is deleted; `false` cancels the run (`DestroyCancelledError`). */
  confirmDestroy?: (preview: DestroyPreview) => Promise<boolean>;
  /**
   * Services the launcher owns and keeps across the runs it launches (`alchemy dev`
   * keeps one local runtime serving while it re-runs the program); each run
   * otherwise starts and disposes its own.
   */
  services?: Services;
  /** Applications the program started under this launch, in order (filled by the engine). */
  readonly applications: Application[];
}

/** Marks the process as launched, so that a second copy of this package can tell. */
export const LAUNCHED_ENV = "ALCHEMY_LAUNCHER_PID";

const current = new AsyncLocalStorage<Launch>();

/** Runs `fn` (typically `import(entry)`) so that applications it starts see `launch`. */
export function runLaunched<T>(launch: Launch, fn: () => Promise<T>): Promise<T> {
  return current.run(launch, fn);
}

/** The launch the caller runs under, if any. */
export function currentLaunch(): Launch | undefined {
  return current.getStore();
}
