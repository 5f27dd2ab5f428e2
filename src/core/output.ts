import { cloneJson } from "./secrets/secret.js";
/**
 * Resource outputs as user code sees them: plain objects carrying a hidden
 * reference to the resource they came from, so that passing one in another
 * resource's props records a dependency. In the plan phase, outputs not known
 * yet are stand-ins that say so.
 *
 * @module
 */

const RESOURCE = Symbol.for("alchemy.resource");
const UNKNOWN_OUTPUT = Symbol.for("alchemy.unknownOutput");

/** Where an output came from. */
export interface ResourceRef {
  readonly fqn: string;
  readonly kind: string;
  readonly id: string;
}

/** The resource an output object belongs to, if it is one. */
export function resourceRefOf(value: unknown): ResourceRef | undefined {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  return (value as Record<symbol, ResourceRef | undefined>)[RESOURCE];
}

/** True when `value` is an output returned by a resource call. */
export function isResourceOutput(value: unknown): boolean {
  return resourceRefOf(value) !== undefined;
}

/** A copy of `output` branded with its resource, ready to hand to user code. */
export function brandOutput<T>(output: unknown, ref: ResourceRef): T {
  // A deep copy that keeps Secret values (structuredClone would strip them to {}).
  const copy = output === undefined ? {} : cloneJson(output);
  if (copy === null || typeof copy !== "object") {
    throw new TypeError(`Output of "${ref.fqn}" is ${JSON.stringify(copy)}; a resource must return an object.`);
  }
  Object.defineProperty(copy, RESOURCE, { value: ref, enumerable: false });
  return copy as T;
}

/** A value that will only be known once the plan is applied. */
export class Unknown {
  constructor(
    readonly fqn: string,
    readonly path: string,
  ) {}
  toString(): string {
    return `(known after apply: ${this.fqn}${this.path ? "." + this.path : ""})`;
  }
  toJSON(): string {
    return this.toString();
  }
}

/**
 * Stand-in for the output of a resource that a plan would create or update:
 * every property reads as an {@link Unknown}.
 */
export function unknownOutput<T>(ref: ResourceRef): T {
  return new Proxy(
    {},
    {
      get(_target, key) {
        if (key === RESOURCE) return ref;
        if (key === UNKNOWN_OUTPUT) return true;
        if (typeof key === "symbol" || key === "then" || key === "toJSON") return undefined;
        return new Unknown(ref.fqn, key);
      },
    },
  ) as T;
}

/** True for the stand-in {@link unknownOutput} returns. */
export function isUnknownOutput(value: unknown): boolean {
  return resourceRefOf(value) !== undefined && (value as Record<symbol, unknown>)[UNKNOWN_OUTPUT] === true;
}
