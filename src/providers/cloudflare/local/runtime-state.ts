/**
 * What the local runtime holds: the declared resources and the Workers, each
 * with the port it is served on. Changes are made to a copy (see
 * change-batcher.ts) and checked here before Miniflare sees them.
 *
 * @module
 */
import type { WorkerSpec } from "../backend.js";
import { LocalRuntimeError } from "./local-runtime-error.js";

/** The kinds of resources the runtime holds: D1 databases and KV namespaces by id, R2 buckets and queues by name. */
export type LocalResourceKind = "d1" | "kv" | "r2" | "queue";

/** How each kind is named in messages. */
export const KIND_NAMES: Record<LocalResourceKind, string> = {
  d1: "D1 database",
  kv: "KV namespace",
  r2: "R2 bucket",
  queue: "queue",
};

/** A Worker the runtime serves. */
export interface RunningWorker {
  readonly spec: WorkerSpec;
  readonly port: number;
}

/** Everything the runtime holds. */
export interface RuntimeState {
  readonly resources: Record<LocalResourceKind, Set<string>>;
  readonly workers: Map<string, RunningWorker>;
}

/** A state that holds nothing. */
export function emptyState(): RuntimeState {
  return { resources: { d1: new Set(), kv: new Set(), r2: new Set(), queue: new Set() }, workers: new Map() };
}

/** A copy that can be changed without touching `state` (specs are shared: they are never mutated). */
export function cloneState(state: RuntimeState): RuntimeState {
  const { d1, kv, r2, queue } = state.resources;
  return { resources: { d1: new Set(d1), kv: new Set(kv), r2: new Set(r2), queue: new Set(queue) }, workers: new Map(state.workers) };
}

/** Names reserved for the runtime's own Workers: Cloudflare never allows `~` in a Worker name. */
export const RESERVED_PREFIX = "~";

/**
 * Puts `worker` into `state`, refusing what Miniflare would refuse for the
 * whole runtime: a reserved name, a port another Worker serves on, a queue
 * another Worker consumes.
 */
export function putWorkerInto(state: RuntimeState, worker: RunningWorker): void {
  const name = worker.spec.name;
  if (name.startsWith(RESERVED_PREFIX)) {
    throw new LocalRuntimeError(`Worker "${name}" cannot run locally: names starting with "${RESERVED_PREFIX}" are reserved for the local runtime. Rename it.`, "reserved-name", `Worker "${name}"`);
  }
  for (const [otherName, other] of state.workers) {
    if (otherName === name) continue;
    if (other.port === worker.port) {
      throw new LocalRuntimeError(
        `Worker "${name}" cannot listen on 127.0.0.1:${worker.port}: Worker "${otherName}" of this run is served there. Pick another port with dev: { port }, or leave it out to get a free one.`,
        "port-in-use",
        `Worker "${name}"`,
      );
    }
    for (const consumer of worker.spec.queueConsumers) {
      if (other.spec.queueConsumers.some((theirs) => theirs.queue === consumer.queue)) {
        throw new LocalRuntimeError(
          `Worker "${name}" cannot consume queue "${consumer.queue}": Worker "${otherName}" already does, and a queue has one consumer. Remove the consumer from one of them.`,
          "queue-consumer-conflict",
          `Worker "${name}"`,
        );
      }
    }
  }
  state.workers.set(name, worker);
}

/** The Workers of `state` whose bindings name resource `id` of `kind`. */
export function workersBinding(state: RuntimeState, kind: LocalResourceKind, id: string): string[] {
  const field = { d1: "d1", kv: "kv_namespace", r2: "r2_bucket", queue: "queue" } as const;
  return [...state.workers.values()]
    .filter(({ spec }) =>
      spec.bindings.some((binding) => {
        if (binding.type !== field[kind]) return false;
        if (binding.type === "d1") return binding.id === id;
        if (binding.type === "kv_namespace") return binding.namespace_id === id;
        if (binding.type === "r2_bucket") return binding.bucket_name === id;
        return binding.type === "queue" && binding.queue_name === id;
      }),
    )
    .map(({ spec }) => spec.name);
}
