import { cloneJson, isSecret } from "./secrets/secret.js";
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

/** How every {@link Unknown} begins when printed or stored in planned props. */
export const UNKNOWN_PREFIX = "(known after apply: ";

/** A value that will only be known once the plan is applied. */
export class Unknown {
  constructor(
    readonly fqn: string,
    readonly path: string,
  ) {}
  toString(): string {
    return `${UNKNOWN_PREFIX}${this.fqn}${this.path ? "." + this.path : ""})`;
  }
  toJSON(): string {
    return this.toString();
  }
}

/**
 * Stand-in for the output of a resource that a plan would create, update or
 * replace, when its kind cannot say what the output will be (see
 * `ResourceOptions.plannedOutput`): every property reads as an {@link Unknown}.
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

/**
 * True for a planned value that holds an {@link Unknown}: the text it stores
 * as, or a string made from one (`${out.path}/x`).
 *
 * @example
 * isUnknownText(String(unknownOutput<{ path: string }>(ref).path)); // true
 */
export function isUnknownText(value: unknown): boolean {
  return typeof value === "string" && value.includes(UNKNOWN_PREFIX);
}

/** True for the stand-in {@link unknownOutput} returns. */
export function isUnknownOutput(value: unknown): boolean {
  return resourceRefOf(value) !== undefined && (value as Record<symbol, unknown>)[UNKNOWN_OUTPUT] === true;
}

/** What {@link trackUnknownReads} saw: what `fn` returned or threw, and whether it read an unknown. */
export type TrackedCall<T> = { readUnknown: boolean } & ({ threw: false; result: T } | { threw: true; error: unknown });

/**
 * Calls `fn` with `value` seen through proxies that note every read of a
 * value known only after apply (an {@link Unknown}, an {@link unknownOutput}
 * stand-in, a string made from one). A decision taken without reading one
 * holds whatever those values turn out to be; one that read one does not.
 *
 * @example
 * const { readUnknown } = trackUnknownReads({ path: "a", json: unknownOutput(ref) }, (p) => (p as { path: string }).path);
 * readUnknown; // false: the path is known
 */
export function trackUnknownReads<T>(value: unknown, fn: (tracked: unknown) => T): TrackedCall<T> {
  let readUnknown = false;
  const proxies = new WeakMap<object, object>();
  const seen = (v: unknown): unknown => {
    if (v instanceof Unknown || isUnknownText(v) || isUnknownOutput(v)) {
      readUnknown = true;
      return v;
    }
    if (v === null || typeof v !== "object" || isSecret(v)) return v;
    const proto = Object.getPrototypeOf(v);
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return v;
    let proxy = proxies.get(v);
    if (!proxy) {
      // Over a copy: a proxy of a frozen object would have to hand out its very fields, unwatched.
      const copy = Array.isArray(v) ? [...v] : Object.assign(Object.create(proto) as object, v);
      proxy = new Proxy(copy, {
        get(_copy, key) {
          const field = Reflect.get(v, key);
          return typeof key === "symbol" ? field : seen(field);
        },
      });
      proxies.set(v, proxy);
    }
    return proxy;
  };
  try {
    const result = fn(seen(value));
    return { readUnknown, threw: false, result };
  } catch (error) {
    return { readUnknown, threw: true, error };
  }
}
