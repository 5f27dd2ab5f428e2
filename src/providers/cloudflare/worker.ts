/**
 * A Cloudflare Worker: its source bundled with esbuild, its bindings, the
 * queues it consumes. Locally it is served by Miniflare on a loopback port of
 * its own, kept in state so that it stays the same from run to run.
 *
 * @module
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { currentScope } from "../../core/context.js";
import { ResourceError } from "../../core/errors.js";
import type { Context } from "../../core/handler-context.js";
import { Resource } from "../../core/resource.js";
import type { ServiceKey, Services } from "../../core/services.js";
import type { Scope } from "../../core/scope.js";
import type { BackendMode, CloudflareBackend, QueueConsumer, WorkerEndpoint, WorkerModule, WorkerSpec } from "./backend.js";
import { backendOf, deleteRecorded, checkSwitch, ensureLocal, madeBy, modeOf, readRecorded, type Recorded } from "./backend-of.js";
import { workerBindings, type BindingValue } from "./bindings.js";
import { BundleError, bundleWorker, type WorkerBundle } from "./bundle.js";
import { noteSources } from "./dev-sources.js";
import { nameOf, WORKER_NAME } from "./names.js";
import { withMethods } from "./output-methods.js";
import type { Queue } from "./queue.js";
import { workerPropsAsFound } from "./worker-drift.js";

/** The compatibility date of a Worker that sets none: the newest the local runtime (workerd 1.20260426) supports. */
export const DEFAULT_COMPATIBILITY_DATE = "2026-04-26";

/** A queue a Worker consumes, with its consumer settings. */
export interface EventSource {
  queue: Queue;
  settings?: {
    /** Messages per batch. @default 10 */
    batchSize?: number;
    /** Seconds to wait for a full batch. @default 5 */
    maxWaitTimeSeconds?: number;
    /** @default 3 */
    maxRetries?: number;
    /** Where messages go after their last retry. */
    deadLetterQueue?: Queue;
  };
}

/** Props of a {@link Worker}. */
export interface WorkerProps {
  /** The Worker's source, relative to the application's rootDir (TypeScript or JavaScript; bundled). Seed 001's spelling. */
  script?: string;
  /** Same as `script`. */
  entrypoint?: string;
  /** `env.NAME` inside the Worker: strings, `alchemy.secret(...)`, resources (D1Database, KVNamespace, R2Bucket, Queue, Worker) or JSON values. */
  bindings?: Record<string, BindingValue>;
  /** Queues this Worker consumes (its `queue()` handler receives their messages). */
  eventSources?: (Queue | EventSource)[];
  /** @default DEFAULT_COMPATIBILITY_DATE */
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  /** Serve it on workers.dev (remote): every deploy that uploads it turns the route on or off to match. Locally it is always served on its own port. @default true */
  url?: boolean;
  /** Local runs: the port to serve on. @default the port it had last time, else a free one */
  dev?: { port?: number };
  /** The Worker's name. @default derived from app, scopes, id and stage */
  name?: string;
}

/** Output of a {@link Worker}. */
export interface Worker {
  name: string;
  /** Where it answers: `http://127.0.0.1:<port>/` locally. */
  url?: string;
  /** Local runs: its port. */
  port?: number;
  backend: BackendMode;
}

/** What a program can do with a Worker it declared. */
export interface WorkerMethods {
  /** A request to the Worker: `await worker.fetch("/health")`. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

interface RecordedProps extends Omit<WorkerProps, "script" | "entrypoint">, Recorded {
  /** The entry, relative to rootDir, as given; absent for a Worker without a script. */
  script?: string;
  /** sha256 of the bundle: an edit anywhere in the source changes the props, so the Worker is updated. */
  codeHash: string;
}

/** The bundles a run made, by hash: the handler uploads what the program's call bundled. */
const bundles: ServiceKey<Map<string, WorkerBundle>> = {
  name: "the Worker bundles of the run",
  start: async () => new Map(),
  stop: async (map) => map.clear(),
};

const WorkerResource = Resource(
  "cloudflare::Worker",
  {
    replaceOnChanges: ["name"],
    // What it uploads, its workers.dev route and the consumers it keeps, as the API has them now (see worker-drift.ts), so that a deploy puts back what differs.
    read(this: Context<Worker, RecordedProps>): Promise<Worker> {
      const sources = this.props.eventSources ?? [];
      const recorded = { compatibilityDate: this.props.compatibilityDate ?? DEFAULT_COMPATIBILITY_DATE, consumers: sources.map(consumerOf) };
      return readRecorded(this, { kind: "worker", name: this.output.name, queues: sources.map(queueIdOf) }, ({ worker }) => {
        const { url: _recorded, ...unrouted } = this.output;
        return this.observed(worker.url === null ? unrouted : { ...this.output, url: worker.url }, workerPropsAsFound(this.props, worker, recorded));
      });
    },
  },
  async function (this: Context<Worker, RecordedProps>, id: string, props: RecordedProps): Promise<Worker> {
    const backend = await backendOf(this.scope, this.fqn, this.phase);
    if (this.phase === "delete") {
      return deleteRecorded(this, backend, async (output) => {
        await backend.deleteWorker(output);
        if (backend.mode === "local") (await this.scope.context.service(localUrls)).delete(this.fqn);
      });
    }
    checkSwitch(this.output, backend.mode, this.fqn);
    const operation = this.phase === "update" ? "update" : "create";
    const name = nameOf(this.fqn, props.name, WORKER_NAME, operation);
    const previous = madeBy(this.output, backend.mode) ? this.output : undefined;
    const spec = workerSpec(this.fqn, name, props, await modulesOf(this.scope, props, name), props.dev?.port ?? previous?.port, operation);
    const endpoint = await putOnSomePort(backend, spec, props.dev?.port === undefined, { adopt: this.adopt, created: previous === undefined }, (m) => this.scope.context.warn(m));
    (await this.scope.context.service(served)).add(`${name}#${props.codeHash}`);
    return { name, ...(endpoint.url ? { url: endpoint.url } : {}), ...(endpoint.port ? { port: endpoint.port } : {}), backend: backend.mode };
  },
);

/** Where each local Worker of the run (or of the `alchemy dev` session) answers, by fqn. */
const localUrls: ServiceKey<Map<string, string>> = {
  name: "the URLs of the local Workers",
  start: async () => new Map(),
  stop: async (map) => map.clear(),
};

/**
 * Puts the Worker; when the port it had last time (not one the program asked
 * for) is taken by now, on a free one instead, saying so.
 */
async function putOnSomePort(
  backend: CloudflareBackend,
  spec: WorkerSpec,
  portIsSticky: boolean,
  options: { adopt: boolean; created: boolean },
  warn: (message: string) => void,
): Promise<WorkerEndpoint> {
  try {
    return await backend.putWorker(spec, options);
  } catch (error) {
    if (!portIsSticky || spec.port === undefined || (error as { code?: string }).code !== "port-in-use") throw error;
    warn(`Worker ${spec.name}: port ${spec.port}, which it had last time, is taken now; it gets another one. Pin one with dev: { port }.`);
    return backend.putWorker({ ...spec, port: undefined }, options);
  }
}

/** For `alchemy dev`: every local Worker served by `services`, with its URL, by fqn. */
export function localWorkerUrls(services: Services): Promise<ReadonlyMap<string, string>> {
  return services.peek(localUrls) ?? Promise.resolve(new Map());
}


/** Locally, the Workers the handler put this run: the others (unchanged, so skipped) are put by the program's call, so that they are served too. */
const served: ServiceKey<Set<string>> = {
  name: "the Workers served this run",
  start: async () => new Set(),
  stop: async (set) => set.clear(),
};

function workerSpec(fqn: string, name: string, props: RecordedProps, modules: WorkerModule[], port: number | undefined, operation: "create" | "update"): WorkerSpec {
  return {
    name,
    modules,
    compatibilityDate: props.compatibilityDate ?? DEFAULT_COMPATIBILITY_DATE,
    compatibilityFlags: props.compatibilityFlags ?? [],
    bindings: workerBindings(props.bindings, fqn, operation),
    queueConsumers: (props.eventSources ?? []).map((source) => consumerOf(source)),
    port,
    url: props.url ?? true,
  };
}

/**
 * A Worker. Declare it after the resources it binds.
 *
 * @example
 * const api = await Worker("api-worker", {
 *   script: "./src/api/index.ts",
 *   bindings: { DB: db, CACHE: cache, GREETING: "hello", TOKEN: alchemy.secret(process.env.API_TOKEN) },
 *   eventSources: [jobs],
 * });
 * console.log(api.url);
 */
export async function Worker(id: string, props: WorkerProps = {}): Promise<Worker & WorkerMethods> {
  const scope = currentScope();
  const fqn = `${scope?.path}/${id}`;
  if (props.script !== undefined && props.entrypoint !== undefined && props.script !== props.entrypoint) {
    throw new ResourceError(`Worker ${fqn} sets both script (${props.script}) and entrypoint (${props.entrypoint}); they are the same prop. Keep one.`, fqn, "plan");
  }
  const { entrypoint, script = entrypoint, ...rest } = props;
  let codeHash = "";
  if (scope !== undefined && (scope.phase === "up" || scope.phase === "plan")) {
    const bundle = await bundleOf(script, scope.rootDir, rest.name ?? id).catch(async (error: unknown) => {
      // Fixing the file a failed build points at (or the entry) runs alchemy dev's program again.
      const pointed = error instanceof BundleError ? error.problems.flatMap((p) => (p.file ? [path.resolve(scope.rootDir, p.file)] : [])) : [];
      await noteSources(scope, [...pointed, ...(script ? [path.resolve(scope.rootDir, script)] : [])]);
      throw error;
    });
    await noteSources(scope, bundle.inputs);
    codeHash = bundle.hash;
    (await scope.context.service(bundles)).set(bundle.hash, bundle);
  }
  const recorded: RecordedProps = { ...rest, ...(script !== undefined ? { script } : {}), codeHash, backend: modeOf(scope) };
  const output = await WorkerResource(id, recorded);
  if (scope !== undefined) await serveLocally(scope, fqn, output, recorded);
  if (scope?.context.options.local && output.backend === "local" && output.url) (await scope.context.service(localUrls)).set(fqn, output.url);
  return withMethods(output, () => fqn, () => ({
    fetch: async (path: string, init?: RequestInit) => {
      if (!output.url) throw new ResourceError(`Worker ${fqn} has no URL to fetch (url: false).`, fqn, "read");
      return fetch(new URL(path, output.url), init);
    },
  }));
}
Worker.kind = WorkerResource.kind;

/**
 * In a local deploy, a Worker whose props did not change (its handler was
 * skipped) is not running in this process yet: put it, on the port it has.
 */
async function serveLocally(scope: Scope, fqn: string, output: Worker, props: RecordedProps): Promise<void> {
  await ensureLocal(scope, fqn, output, async (backend) => {
    const key = `${output.name}#${props.codeHash}`;
    const already = await scope.context.service(served);
    if (already.has(key)) return;
    already.add(key);
    const modules = await modulesOf(scope, props, output.name);
    const spec = workerSpec(fqn, output.name, props, modules, props.dev?.port ?? output.port, "update");
    const endpoint = await putOnSomePort(backend, spec, props.dev?.port === undefined, { adopt: false, created: false }, (m) => scope.context.warn(m));
    if (endpoint.url !== output.url) {
      // Served on another port than recorded: the program sees where it answers now; the record follows on the next change.
      Object.assign(output, { url: endpoint.url, port: endpoint.port });
    }
  });
}

/** The bundle of `script`, or a placeholder Worker for one declared without a script (seed 001 declares `Worker("test-worker")`). */
async function bundleOf(script: string | undefined, rootDir: string, workerName: string): Promise<WorkerBundle> {
  if (script !== undefined) return bundleWorker(script, { rootDir, workerName });
  const code =
    `export default { fetch() { return new Response(${JSON.stringify(`Worker ${workerName} has no script yet: set its script prop, e.g. script: "./src/index.ts".\n`)}, ` +
    `{ headers: { "content-type": "text/plain" } }); } };\n`;
  return { modules: [{ name: "index.js", type: "esm", contents: code }], inputs: [], hash: createHash("sha256").update(code).digest("hex") };
}

/** The modules the program's call bundled, or (a handler run without that call, e.g. resumed) a bundle made now. */
async function modulesOf(scope: Scope, props: RecordedProps, name: string): Promise<WorkerModule[]> {
  const made = (await scope.context.service(bundles)).get(props.codeHash);
  return (made ?? (await bundleOf(props.script, scope.rootDir, name))).modules;
}

/** The id of the queue an event source names. */
function queueIdOf(source: Queue | EventSource): string {
  return "queue" in source && typeof source.queue === "object" ? source.queue.id : (source as Queue).id;
}

function consumerOf(source: Queue | EventSource): QueueConsumer {
  if ("queue" in source && typeof source.queue === "object") {
    const settings = source.settings ?? {};
    return {
      queue: source.queue.name,
      ...(settings.batchSize !== undefined ? { maxBatchSize: settings.batchSize } : {}),
      ...(settings.maxWaitTimeSeconds !== undefined ? { maxBatchTimeout: settings.maxWaitTimeSeconds } : {}),
      ...(settings.maxRetries !== undefined ? { maxRetries: settings.maxRetries } : {}),
      ...(settings.deadLetterQueue !== undefined ? { deadLetterQueue: settings.deadLetterQueue.name } : {}),
    };
  }
  return { queue: (source as Queue).name };
}
