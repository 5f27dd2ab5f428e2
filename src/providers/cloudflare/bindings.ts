/**
 * A Worker's `bindings` prop, as the program writes it, turned into the
 * binding shapes of the Worker upload API (backend.ts): a string is plain
 * text, `alchemy.secret(...)` secret text, a resource's output its binding
 * (D1, KV, R2, queue, another Worker as a service), any other JSON value JSON.
 *
 * @module
 */
import { ResourceError } from "../../core/errors.js";
import { resourceRefOf } from "../../core/output.js";
import { isSecret, type Secret } from "../../core/secrets/secret.js";
import type { WorkerBinding } from "./backend.js";
import type { D1Database } from "./d1-database.js";
import type { KVNamespace } from "./kv-namespace.js";
import type { Queue } from "./queue.js";
import type { R2Bucket } from "./r2-bucket.js";

/** What a Worker's `bindings` may hold, per name. */
export type BindingValue = string | Secret | D1Database | KVNamespace | R2Bucket | Queue | { name: string; url?: string } | number | boolean | null | object;

/** The bindings of `fqn` as the upload API spells them, sorted by name. */
export function workerBindings(bindings: Record<string, BindingValue> | undefined, fqn: string, operation: "create" | "update"): WorkerBinding[] {
  const result: WorkerBinding[] = [];
  for (const [name, value] of Object.entries(bindings ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
      throw new ResourceError(`Worker ${fqn}: binding name ${JSON.stringify(name)} is not a JavaScript identifier (it becomes env.${name}). Rename it.`, fqn, operation);
    }
    result.push(bindingOf(name, value, fqn, operation));
  }
  return result;
}

function bindingOf(name: string, value: BindingValue, fqn: string, operation: "create" | "update"): WorkerBinding {
  if (typeof value === "string") return { type: "plain_text", name, text: value };
  if (isSecret(value)) return { type: "secret_text", name, text: value.unwrap() };
  const kind = resourceRefOf(value)?.kind;
  const output = value as Record<string, string>;
  switch (kind) {
    case "cloudflare::D1Database":
      return { type: "d1", name, id: output.id! };
    case "cloudflare::KVNamespace":
      return { type: "kv_namespace", name, namespace_id: output.id! };
    case "cloudflare::R2Bucket":
      // A bucket's name is unique only within its jurisdiction, so Cloudflare finds an "eu" bucket only by both. `jurisdiction`
      // on the upload's r2_bucket binding is in Cloudflare's API schema and wrangler's r2_buckets config, but not in our
      // reference notes (shared/reference/cloudflare.md lists the binding without it): tested against the fake only.
      // "default" means no jurisdiction, and is not a value that schema lists.
      return { type: "r2_bucket", name, bucket_name: output.name!, ...(output.jurisdiction && output.jurisdiction !== "default" ? { jurisdiction: output.jurisdiction } : {}) };
    case "cloudflare::Queue":
      return { type: "queue", name, queue_name: output.name! };
    case "cloudflare::Worker":
      return { type: "service", name, service: output.name! };
    case undefined:
      break;
    default:
      throw new ResourceError(
        `Worker ${fqn}: binding ${name} is the output of a ${kind}, which a Worker cannot bind. ` +
          "Bind a D1Database, KVNamespace, R2Bucket, Queue or Worker, or pass a plain value (it becomes JSON).",
        fqn,
        operation,
      );
  }
  if (value === undefined || typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") {
    throw new ResourceError(`Worker ${fqn}: binding ${name} is ${value === undefined ? "undefined" : `a ${typeof value}`}; a binding is a string, a secret, a resource or a JSON value.`, fqn, operation);
  }
  return { type: "json", name, json: value };
}
