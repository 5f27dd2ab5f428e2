/**
 * Methods on the outputs a program gets from Cloudflare resources
 * (`db.query(...)`, `kv.get(...)`, `worker.fetch(...)`), as seed 001's test
 * example uses them. They are not part of the output that is recorded: they
 * are added as non-enumerable properties, so state, props and JSON never see
 * them. Each call goes to the backend of the run that declared the resource.
 *
 * @module
 */
import { currentScope } from "../../core/context.js";
import { isUnknownOutput } from "../../core/output.js";
import type { CloudflareBackend } from "./backend.js";
import { backendOf } from "./backend-of.js";

/**
 * Adds `methods(backend)` to `output` once the call that declared it resolved.
 * In a plan (outputs not known yet) nothing is added.
 */
export function withMethods<Output extends object, Methods extends object>(
  output: Output,
  fqn: () => string,
  methods: (backend: () => Promise<CloudflareBackend>) => Methods,
): Output & Methods {
  const scope = currentScope();
  if (scope === undefined || isUnknownOutput(output)) return output as Output & Methods;
  const backend = () => backendOf(scope, fqn(), "read");
  for (const [key, value] of Object.entries(methods(backend))) {
    Object.defineProperty(output, key, { value, enumerable: false, configurable: true });
  }
  return output as Output & Methods;
}
