/**
 * The Miniflare configuration of a {@link RuntimeState}: one internal control
 * Worker binding every declared resource (so that Node can reach them), the
 * user Workers each on its own loopback port, and a stand-in for each Worker a
 * service binding names but the runtime does not hold.
 *
 * @module
 */
import path from "node:path";
import type { Readable } from "node:stream";
import type { MiniflareOptions, WorkerOptions } from "miniflare";
import type { WorkerModule } from "../backend.js";
import { LOCAL_HOST } from "./free-port.js";
import { RESERVED_PREFIX, type LocalResourceKind, type RunningWorker, type RuntimeState } from "./runtime-state.js";

/** Name of the internal Worker that binds every declared resource. */
export const CONTROL_WORKER = `${RESERVED_PREFIX}control`;

/** The binding of the control Worker through which Node reaches resource `id` of `kind`. */
export function controlBinding(kind: LocalResourceKind, id: string): string {
  return `${kind.toUpperCase()}:${id}`;
}

// Modules get names relative to this root, so a bundle's imports between its modules resolve as they were written.
const MODULES_ROOT = path.resolve("/alchemy-worker");

const MODULE_TYPES = { esm: "ESModule", text: "Text", wasm: "CompiledWasm" } as const;

/** What the runtime needs besides the state: where data lives and where workerd's output goes. */
export interface RenderContext {
  readonly persistRoot: string;
  readonly handleRuntimeStdio: (stdout: Readable, stderr: Readable) => void;
}

/** The full Miniflare options (`setOptions` replaces everything) for `state`. */
export function miniflareOptions(state: RuntimeState, context: RenderContext): MiniflareOptions {
  const missingServices = new Set<string>();
  const workers = [...state.workers.values()].map((worker) => userWorkerOptions(worker, state, missingServices));
  return {
    host: LOCAL_HOST,
    port: 0,
    // Otherwise every start fetches cf.json from the network.
    cf: false,
    defaultPersistRoot: context.persistRoot,
    handleRuntimeStdio: context.handleRuntimeStdio,
    workers: [controlWorkerOptions(state), ...workers, ...[...missingServices].map(missingServiceOptions)],
  };
}

function controlWorkerOptions(state: RuntimeState): WorkerOptions {
  const { d1, kv, r2, queue } = state.resources;
  return {
    name: CONTROL_WORKER,
    compatibilityDate: "2024-09-23",
    modulesRoot: MODULES_ROOT,
    modules: [{ type: "ESModule", path: path.join(MODULES_ROOT, "control.js"), contents: "export default { fetch() { return new Response(null, { status: 404 }); } };" }],
    d1Databases: Object.fromEntries([...d1].map((id) => [controlBinding("d1", id), id])),
    kvNamespaces: Object.fromEntries([...kv].map((id) => [controlBinding("kv", id), id])),
    r2Buckets: Object.fromEntries([...r2].map((name) => [controlBinding("r2", name), name])),
    queueProducers: Object.fromEntries([...queue].map((name) => [controlBinding("queue", name), { queueName: name }])),
  };
}

function userWorkerOptions({ spec, port }: RunningWorker, state: RuntimeState, missingServices: Set<string>): WorkerOptions {
  const vars: Record<string, unknown> = {};
  const d1Databases: Record<string, string> = {};
  const kvNamespaces: Record<string, string> = {};
  const r2Buckets: Record<string, string> = {};
  const queueProducers: Record<string, { queueName: string }> = {};
  const serviceBindings: Record<string, string> = {};
  for (const binding of spec.bindings) {
    switch (binding.type) {
      case "plain_text":
      case "secret_text":
        vars[binding.name] = binding.text;
        break;
      case "json":
        vars[binding.name] = binding.json;
        break;
      case "d1":
        d1Databases[binding.name] = binding.id;
        break;
      case "kv_namespace":
        kvNamespaces[binding.name] = binding.namespace_id;
        break;
      case "r2_bucket":
        r2Buckets[binding.name] = binding.bucket_name;
        break;
      case "queue":
        queueProducers[binding.name] = { queueName: binding.queue_name };
        break;
      case "service":
        if (state.workers.has(binding.service)) serviceBindings[binding.name] = binding.service;
        else {
          missingServices.add(binding.service);
          serviceBindings[binding.name] = missingServiceName(binding.service);
        }
        break;
    }
  }
  return {
    name: spec.name,
    compatibilityDate: spec.compatibilityDate,
    compatibilityFlags: spec.compatibilityFlags,
    modulesRoot: MODULES_ROOT,
    modules: spec.modules.flatMap(moduleOptions),
    bindings: vars as WorkerOptions["bindings"],
    d1Databases,
    kvNamespaces,
    r2Buckets,
    queueProducers,
    serviceBindings,
    queueConsumers: Object.fromEntries(
      spec.queueConsumers.map((consumer) => [
        consumer.queue,
        { maxBatchSize: consumer.maxBatchSize, maxBatchTimeout: consumer.maxBatchTimeout, maxRetries: consumer.maxRetries, deadLetterQueue: consumer.deadLetterQueue },
      ]),
    ),
    unsafeDirectSockets: [{ host: LOCAL_HOST, port }],
  };
}

function moduleOptions(module: WorkerModule): NonNullable<Extract<WorkerOptions["modules"], unknown[]>>[number][] {
  // Source maps are for the remote upload (stack traces); workerd does not take them as modules.
  if (module.type === "sourcemap") return [];
  return [{ type: MODULE_TYPES[module.type], path: path.join(MODULES_ROOT, module.name), contents: module.contents }];
}

function missingServiceName(service: string): string {
  return `${RESERVED_PREFIX}missing-${service}`;
}

/** A stand-in for a Worker that a service binding names and the runtime does not hold (not deployed yet, or deleted). */
function missingServiceOptions(service: string): WorkerOptions {
  const message = `Worker "${service}" is not running locally: deploy it, or check the service of the binding.`;
  return {
    name: missingServiceName(service),
    compatibilityDate: "2024-09-23",
    modulesRoot: MODULES_ROOT,
    modules: [
      {
        type: "ESModule",
        path: path.join(MODULES_ROOT, "missing.js"),
        contents: `export default { fetch() { return new Response(${JSON.stringify(message)}, { status: 503 }); } };`,
      },
    ],
  };
}
