/**
 * The local Cloudflare runtime of a process: one Miniflare instance (one
 * workerd process), started on first need, holding every declared D1
 * database, KV namespace, R2 bucket and queue, and every Worker, each Worker
 * on its own port of 127.0.0.1.
 *
 * @module
 */
import type { Miniflare } from "miniflare";
import type { WorkerSpec } from "../backend.js";
import { ChangeBatcher, type Change } from "./change-batcher.js";
import { findFreePort, isPortFree, LOCAL_HOST } from "./free-port.js";
import { withoutNewSignalListeners } from "./signal-listeners.js";
import { loadMiniflare } from "./load-miniflare.js";
import type { LocalBindings } from "./local-bindings.js";
import { LocalRuntimeError } from "./local-runtime-error.js";
import { CONTROL_WORKER, controlBinding, miniflareOptions } from "./miniflare-options.js";
import { removePersistedData, type PersistedKind } from "./persisted-data.js";
import { cloneState, emptyState, KIND_NAMES, putWorkerInto, workersBinding, type LocalResourceKind, type RuntimeState } from "./runtime-state.js";
import { WorkerdOutput, type WorkerdOutputSink } from "./workerd-output.js";

/** Options of {@link LocalRuntime}. */
export interface LocalRuntimeOptions {
  /** Where D1, KV, R2 and cache data are kept, across runs. */
  persistRoot: string;
  /** Reports a warning the way the run does. */
  warn(message: string): void;
  /**
   * Where workerd's output goes (Workers' `console.log`, uncaught errors).
   * @default each line to this process's stdout or stderr
   */
  output?: WorkerdOutputSink;
}

/** Where a local Worker answers. */
export interface LocalWorkerEndpoint {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
}

/**
 * One Miniflare for the process. Every change (declaring or forgetting a
 * resource, putting or deleting a Worker) restarts workerd with the whole new
 * configuration (`setOptions`, about 100-300 ms); changes made about the same
 * time share one restart. Each method resolves once a configuration holding
 * its change is serving.
 *
 * Data is kept under `persistRoot`; queue messages in flight are lost at each
 * change, as they are when Miniflare restarts.
 *
 * @example
 * const runtime = new LocalRuntime({ persistRoot: ".alchemy/~local", warn: console.warn });
 * const { url } = await runtime.putWorker(spec);
 * await runtime.use("kv", "local-sessions", (kv) => kv.put("a", "1"));
 * await runtime.dispose();
 */
export class LocalRuntime {
  /** Where D1, KV, R2 and cache data are kept. */
  readonly persistRoot: string;
  readonly #warn: (message: string) => void;
  readonly #output: WorkerdOutput;
  readonly #batcher: ChangeBatcher<RuntimeState>;
  #miniflare: Miniflare | undefined;
  /** Node-side bindings of the control Worker, valid until the next change. */
  readonly #bindings = new Map<string, Promise<unknown>>();
  /** Ports promised to Workers whose change is not applied yet. */
  readonly #promisedPorts = new Set<number>();
  #operations = 0;
  #starts = 0;
  readonly #operationsDone: (() => void)[] = [];
  #disposing: Promise<void> | undefined;

  constructor(options: LocalRuntimeOptions) {
    this.persistRoot = options.persistRoot;
    this.#warn = options.warn;
    this.#output = new WorkerdOutput(options.output);
    this.#batcher = new ChangeBatcher({
      initial: emptyState(),
      clone: cloneState,
      apply: (next, changes) => this.#apply(next, changes),
      restore: (good, failure) => this.#restore(good, failure),
    });
  }

  /** Whether workerd is running (it starts on the first change). */
  get started(): boolean {
    return this.#miniflare !== undefined;
  }

  /** How many configurations workerd has been started with (the first start and each change applied since). */
  get starts(): number {
    return this.#starts;
  }

  /** Whether resource `id` of `kind` is declared (in the configuration serving now). */
  isDeclared(kind: LocalResourceKind, id: string): boolean {
    return this.#batcher.applied.resources[kind].has(id);
  }

  /** The Workers served now, by name, with their ports. */
  workers(): Map<string, LocalWorkerEndpoint> {
    return new Map([...this.#batcher.applied.workers].map(([name, { port }]) => [name, endpoint(port)]));
  }

  /**
   * Makes the runtime hold resource `id` of `kind` (D1 and KV by id, R2 and
   * queues by name), so that Node can reach it; starts workerd if needed.
   * Idempotent. Workers reach what they bind whether or not it is declared.
   */
  async declare(kind: LocalResourceKind, id: string): Promise<void> {
    this.#assertOpen();
    if (this.isDeclared(kind, id)) return;
    await this.#batcher.submit({
      label: `${KIND_NAMES[kind]} "${id}"`,
      mutate: (draft) => {
        if (draft.resources[kind].has(id)) return false;
        draft.resources[kind].add(id);
      },
    });
  }

  /** Stops holding resource `id` of `kind` (its data stays: see {@link deleteData}). Idempotent. */
  async forget(kind: LocalResourceKind, id: string): Promise<void> {
    this.#assertOpen();
    await this.#batcher.submit({ label: `${KIND_NAMES[kind]} "${id}"`, mutate: (draft) => draft.resources[kind].delete(id) });
  }

  /**
   * Serves `spec` (replacing the Worker of the same name) and resolves once it
   * answers with this code. Port: `spec.port` if given, else the port it
   * already has, else a free one.
   *
   * @throws LocalRuntimeError `port-in-use` when the requested port is taken; `runtime-failed`
   * (with workerd's error) when the code does not load. The previous version keeps serving.
   */
  async putWorker(spec: WorkerSpec): Promise<LocalWorkerEndpoint> {
    this.#assertOpen();
    let chosen: number | undefined;
    try {
      await this.#batcher.submitAfter(async () => {
        const current = this.#batcher.applied.workers.get(spec.name);
        const held = new Set([...this.#batcher.applied.workers.values()].map((worker) => worker.port));
        const port = spec.port ?? current?.port ?? (await findFreePort(new Set([...held, ...this.#promisedPorts])));
        this.#promisedPorts.add(port);
        chosen = port;
        if (port !== current?.port && !held.has(port) && !(await isPortFree(port))) throw portInUse(spec.name, port);
        return { label: `Worker "${spec.name}"`, mutate: (draft) => putWorkerInto(draft, { spec, port }) };
      });
    } finally {
      if (chosen !== undefined) this.#promisedPorts.delete(chosen);
    }
    // Two puts of one Worker in the same batch: the last one's port is the one served.
    return endpoint(this.#batcher.applied.workers.get(spec.name)?.port ?? chosen!);
  }

  /** Stops serving Worker `name`; a Worker it does not hold is fine. */
  async deleteWorker(name: string): Promise<void> {
    this.#assertOpen();
    await this.#batcher.submit({ label: `Worker "${name}"`, mutate: (draft) => draft.workers.delete(name) });
  }

  /**
   * Runs `operation` on the Node-side binding of resource `id` of `kind`
   * (declaring it first). The binding is valid only during `operation`: no
   * change is applied until it settles, so read what you need inside.
   *
   * @example
   * const rows = await runtime.use("d1", id, (db) => db.prepare("SELECT 1").all());
   */
  async use<K extends LocalResourceKind, T>(kind: K, id: string, operation: (binding: LocalBindings[K]) => Promise<T>): Promise<T> {
    // A forget of the same resource may have been applied meanwhile: declare it again then.
    do {
      await this.declare(kind, id);
      while (this.#batcher.busy) await this.#batcher.idle();
      this.#assertOpen();
    } while (!this.isDeclared(kind, id));
    this.#operations++;
    try {
      return await operation((await this.#binding(kind, id)) as LocalBindings[K]);
    } finally {
      if (--this.#operations === 0) for (const done of this.#operationsDone.splice(0)) done();
    }
  }

  /**
   * Forgets resource `id` of `kind` and removes its data from disk: a
   * resource made again with the same id starts empty. workerd is restarted
   * first, so that it holds none of the files open.
   */
  async deleteData(kind: PersistedKind, id: string): Promise<void> {
    this.#assertOpen();
    const bound = workersBinding(this.#batcher.applied, kind, id);
    if (bound.length > 0) {
      this.#warn(`${KIND_NAMES[kind]} "${id}" is deleted while ${bound.map((name) => `Worker "${name}"`).join(", ")} still bind it: their next use of it starts from empty data.`);
    }
    if (this.#miniflare !== undefined || this.#batcher.busy) {
      await this.#batcher.submit({
        label: `${KIND_NAMES[kind]} "${id}"`,
        mutate: (draft) => {
          draft.resources[kind].delete(id);
          return true;
        },
      });
    }
    await removePersistedData(this.persistRoot, kind, id);
  }

  /** Stops workerd and refuses every later call. Safe to call twice; changes still waiting are refused. */
  dispose(): Promise<void> {
    this.#disposing ??= (async () => {
      await this.#batcher.close(disposedError());
      const miniflare = this.#miniflare;
      this.#miniflare = undefined;
      this.#bindings.clear();
      try {
        await miniflare?.dispose();
      } catch (error) {
        this.#warn(`The local Cloudflare runtime did not stop cleanly: ${error instanceof Error ? error.message : String(error)}`);
      }
    })();
    return this.#disposing;
  }

  #assertOpen(): void {
    if (this.#disposing !== undefined) throw disposedError();
  }

  #binding(kind: LocalResourceKind, id: string): Promise<unknown> {
    const name = controlBinding(kind, id);
    let binding = this.#bindings.get(name);
    if (binding === undefined) {
      const miniflare = this.#miniflare!;
      if (kind === "d1") binding = miniflare.getD1Database(name, CONTROL_WORKER);
      else if (kind === "kv") binding = miniflare.getKVNamespace(name, CONTROL_WORKER);
      else if (kind === "r2") binding = miniflare.getR2Bucket(name, CONTROL_WORKER);
      else binding = miniflare.getQueueProducer(name, CONTROL_WORKER);
      this.#bindings.set(name, binding);
    }
    return binding;
  }

  async #apply(next: RuntimeState, changes: readonly Change<RuntimeState>[]): Promise<void> {
    while (this.#operations > 0) await new Promise<void>((resolve) => this.#operationsDone.push(resolve));
    // Bindings from mf.get*() are invalid once the configuration changes.
    this.#bindings.clear();
    const options = miniflareOptions(next, { persistRoot: this.persistRoot, handleRuntimeStdio: this.#output.attach });
    const mark = this.#output.mark();
    try {
      if (this.#miniflare === undefined) {
        const { Miniflare } = await loadMiniflare();
        const miniflare = withoutNewSignalListeners(() => new Miniflare(options));
        try {
          await miniflare.ready;
        } catch (error) {
          await miniflare.dispose().catch(() => undefined);
          throw error;
        }
        this.#miniflare = miniflare;
      } else {
        await this.#miniflare.setOptions(options);
      }
      this.#starts++;
    } catch (error) {
      throw await this.#explain(error, next, changes, mark);
    }
  }

  async #restore(good: RuntimeState, failure: unknown): Promise<void> {
    if (this.#miniflare === undefined || this.#disposing !== undefined) return;
    try {
      await this.#apply(good, []);
    } catch (error) {
      this.#warn(
        `The local Cloudflare runtime could not go back to its last working configuration after a failed change (${failure instanceof Error ? failure.message : String(failure)}): ` +
          `${error instanceof Error ? error.message : String(error)}. Its Workers answer again after the next successful change.`,
      );
    }
  }

  async #explain(error: unknown, next: RuntimeState, changes: readonly Change<RuntimeState>[], mark: number): Promise<Error> {
    if (error instanceof LocalRuntimeError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : String(error);
    const subject = changes.map((change) => change.label).join(", ") || "the last working configuration";
    if (code === "ERR_ADDRESS_IN_USE") {
      const port = Number(/:(\d+)\)/.exec(message)?.[1]);
      const worker = [...next.workers.values()].find((candidate) => candidate.port === port);
      if (worker !== undefined) return portInUse(worker.spec.name, port, error);
    }
    const lines = await this.#output.errorsSince(mark);
    // Miniflare's own message points at "logging output above": quote that output instead.
    const why = lines.length > 0 ? lines.join("\n") : message;
    return new LocalRuntimeError(
      `${subject} could not start in the local Cloudflare runtime (workerd):\n${why}\nFix its code, bindings or compatibility settings, then deploy again; what ran before keeps serving.`,
      "runtime-failed",
      subject,
      { cause: error },
    );
  }
}

function endpoint(port: number): LocalWorkerEndpoint {
  return { url: `http://${LOCAL_HOST}:${port}/`, port };
}

function portInUse(name: string, port: number, cause?: unknown): LocalRuntimeError {
  return new LocalRuntimeError(
    `Worker "${name}" cannot listen on ${LOCAL_HOST}:${port}: the port is in use. Free it, or pick another with dev: { port } (or leave the port out to get a free one).`,
    "port-in-use",
    `Worker "${name}"`,
    cause === undefined ? undefined : { cause },
  );
}

function disposedError(): LocalRuntimeError {
  return new LocalRuntimeError(
    "The local Cloudflare runtime has been stopped: the run that owned it has ended. Start a new run to use local resources.",
    "disposed",
    "local runtime",
  );
}
