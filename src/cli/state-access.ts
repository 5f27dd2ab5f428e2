/**
 * How the state commands reach recorded state: always through a store (the
 * filesystem store by default, or the one `--state <store-url>` names), never
 * by reading its files, because a stage's write-ahead journal may hold changes
 * that are not in the record files yet. Also which application a command means
 * when `--app` is not given.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { AlchemyError } from "../core/errors.js";
import { nameProblem } from "../core/names.js";
import { canLock, currentHolder, type StageLock } from "../state/stage-lock.js";
import type { State, StateStore, StateStoreFactory } from "../state/state-store.js";
import { describeLocation, storeFactory, type StoreLocation } from "../state/store-url.js";
import { UsageError } from "./exit-codes.js";
import type { Output } from "./io.js";
import { checkName } from "./state-target.js";

/** A state command could not do what it was asked; its message says why and how to fix it (exit 1). */
export class StateCommandError extends AlchemyError {
  override name = "StateCommandError";
}

/**
 * Names of the applications in the state directory `dir`: its subdirectories
 * with valid names (`~journal`-like and hidden entries are not applications).
 *
 * @example
 * listApps("/home/me/project/.alchemy"); // ["shop"]
 */
export function listApps(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw new StateCommandError(
      `Cannot read the state directory ${dir}: ${(error as Error).message}. Check that it belongs to the user running alchemy.`,
      { cause: error },
    );
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith("~") && !e.name.startsWith(".") && nameProblem(e.name) === undefined)
    .map((e) => e.name)
    .sort();
}

/**
 * The application a command works on: `app` when given, else the only
 * application recorded in `dir`.
 *
 * @throws UsageError when `app` is not a valid name, or `dir` holds several applications.
 * @throws StateCommandError when `dir` holds no application.
 * @example
 * resolveApp("/home/me/project/.alchemy"); // "shop", when it is the only one
 */
export function resolveApp(where: string | StoreLocation, app?: string): string {
  if (app !== undefined) return checkName(app, "application", "--app");
  if (typeof where !== "string" && where.kind !== "file") {
    throw new UsageError(`Pass --app <name>: the application cannot be guessed from ${describeLocation(where)}.`);
  }
  const dir = typeof where === "string" ? where : where.dir;
  const apps = listApps(dir);
  if (apps.length === 1) return apps[0]!;
  if (apps.length === 0) {
    throw new StateCommandError(
      `No application is recorded in the state directory ${dir}. Deploy one first, or point --state at the directory ` +
        `that holds your state (the program's rootDir/.alchemy), and name the application with --app <name>.`,
    );
  }
  throw new UsageError(
    `The state directory ${dir} holds several applications (${apps.join(", ")}): choose one with --app <name>.`,
  );
}

/** The records directly in one scope. */
export interface ScopeRecords {
  /** The scope: app, stage, then nested or resource scope names. */
  chain: string[];
  /** Its records, sorted by id. */
  records: State[];
}

/**
 * The stores a command opened, one per scope, each initialised on first use
 * and deinitialised by {@link StateSession.close}; and the stage locks it took,
 * released after that. What the stores warn about (a state directory every
 * user may write to) goes to `onWarning`, each message once per session.
 *
 * @example
 * await withStateSession(location, async (session) => {
 *   const scopes = await session.walk(["shop", "dev"]);
 * });
 */
export class StateSession {
  readonly #stores = new Map<string, Promise<StateStore>>();
  readonly #locks: { store: StateStore; lock: StageLock }[] = [];
  readonly #warned = new Set<string>();
  /** Where the state is, for messages: a directory, `sqlite:<file>`, a redacted PostgreSQL URL. */
  readonly where: string;

  constructor(
    readonly location: StoreLocation,
    private readonly factory: StateStoreFactory,
    /** Receives each warning of the stores opened (`StateStore.warnings`) once. */
    private readonly onWarning: (message: string) => void = () => undefined,
  ) {
    this.where = describeLocation(location);
  }

  /** Where the scope `chain` lives, for messages. */
  scopeDir(chain: readonly string[]): string {
    return this.location.kind === "file" ? path.join(this.location.dir, ...chain) : `${this.where}#${chain.join("/")}`;
  }

  /** The store of the scope `chain`, opened (and `init`ed) once per session. */
  open(chain: readonly string[]): Promise<StateStore> {
    const key = chain.join("/");
    let store = this.#stores.get(key);
    if (store === undefined) {
      store = (async () => {
        const opened = this.factory({ chain });
        try {
          await opened.init?.();
        } catch (error) {
          await opened.deinit?.().catch(() => undefined); // let go of the stage's journal or connection
          throw error;
        }
        this.#reportWarnings(opened);
        return opened;
      })();
      this.#stores.set(key, store);
    }
    return store;
  }

  /**
   * Takes the lock of the stage `[app, stage]` before anything of it is read,
   * so that an edit never races a running deploy; released by {@link close}.
   * A store that cannot lock is used as it is.
   *
   * @throws StageLockedError when another run holds it.
   */
  async lockStage(app: string, stage: string, command: string): Promise<void> {
    const store = this.factory({ chain: [app, stage] });
    if (!canLock(store)) return;
    const lock = await store.lock({ holder: currentHolder(command), leaseMs: 30_000, timeoutMs: 0 });
    this.#locks.push({ store, lock });
  }

  #reportWarnings(store: StateStore): void {
    for (const message of store.warnings?.() ?? []) {
      if (this.#warned.has(message)) continue;
      this.#warned.add(message);
      this.onWarning(message);
    }
  }

  /**
   * The records of the scope `chain` and of every scope below it (nested and
   * resource scopes, any depth), parents before children, siblings by name.
   */
  async walk(chain: readonly string[]): Promise<ScopeRecords[]> {
    const store = await this.open(chain);
    const all = await store.all();
    const records = Object.keys(all).sort().map((id) => all[id]!);
    const found: ScopeRecords[] = [{ chain: [...chain], records }];
    for (const child of (await store.listScopes()).sort()) found.push(...(await this.walk([...chain, child])));
    return found;
  }

  /** Deinitialises every store opened, also when one of them fails, then releases the locks taken. */
  async close(): Promise<void> {
    const stores = [...this.#stores.values()];
    this.#stores.clear();
    // A store whose init failed was let go of by open().
    const results = await Promise.allSettled(stores.map((store) => store.then((s) => s.deinit?.(), () => undefined)));
    for (const { store, lock } of this.#locks.splice(0)) {
      results.push(...(await Promise.allSettled([(async () => (await store.deinit?.(), await lock.release()))()])));
    }
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}

/**
 * Runs `body` with a {@link StateSession} over the store at `location` (a
 * filesystem state directory when given as a path), closed when it settles.
 * The stores' warnings are written to `stderr` as `! <message>` lines, each
 * once; without `stderr` they are dropped.
 *
 * @example
 * const scopes = await withStateSession(location, (session) => session.walk(["shop", "dev"]), io.stderr);
 */
export async function withStateSession<T>(
  location: StoreLocation | string,
  body: (session: StateSession) => Promise<T>,
  stderr?: Output,
): Promise<T> {
  const where: StoreLocation = typeof location === "string" ? { kind: "file", dir: location } : location;
  const warn = stderr === undefined ? undefined : (message: string) => void stderr.write(`! ${message}\n`);
  const session = new StateSession(where, storeFactory(where), warn);
  let result: T;
  try {
    result = await body(session);
  } catch (error) {
    await session.close().catch(() => undefined); // the body's error is the one to report
    throw error;
  }
  await session.close();
  return result;
}
