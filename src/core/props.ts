/**
 * Props as the engine stores and compares them: JSON values, with the
 * dependencies (resource outputs found anywhere inside) collected on the way.
 *
 * @module
 */
import { ResourceError } from "./errors.js";
import { isUnknownOutput, resourceRefOf, Unknown } from "./output.js";
import { isSecret } from "./secrets/secret.js";

/** Props made storable, and what they revealed. */
export interface SerializedProps {
  /** A JSON value (no undefined, functions or class instances left). */
  value: unknown;
  /** fqns of resources whose outputs appear in the props, sorted. */
  deps: string[];
  /** True when a value is only known after apply (plan phase). */
  unknown: boolean;
}

/**
 * Serializes props to a JSON value, recording dependencies.
 *
 * @param fqn the resource the props belong to, for error messages
 */
export function serializeProps(props: unknown, fqn: string): SerializedProps {
  const deps = new Set<string>();
  let unknown = false;
  const seen = new Set<object>();

  const walk = (value: unknown, path: string): unknown => {
    if (value === null || typeof value === "string" || typeof value === "boolean") return value;
    if (typeof value === "number") return Number.isFinite(value) ? value : null;
    if (value === undefined) return undefined;
    // Kept as it is: compared by value, sealed when the record is stored.
    if (isSecret(value)) return value;
    if (value instanceof Unknown) {
      unknown = true;
      deps.add(value.fqn);
      return value.toJSON();
    }
    if (typeof value === "function" || typeof value === "bigint" || typeof value === "symbol") {
      const ref = resourceRefOf(value);
      if (ref) return undefined;
      throw new ResourceError(
        `Props of "${fqn}" hold a ${typeof value} at ${path || "the top level"}; props must be JSON values (strings, numbers, booleans, arrays, plain objects or resource outputs).`,
        fqn,
        "plan",
      );
    }
    const ref = resourceRefOf(value);
    if (ref) {
      deps.add(ref.fqn);
      if (isUnknownOutput(value)) {
        unknown = true;
        return new Unknown(ref.fqn, "").toJSON();
      }
    }
    const obj = value as object;
    if (seen.has(obj)) {
      throw new ResourceError(`Props of "${fqn}" contain a cycle at ${path}; props must be a tree of JSON values.`, fqn, "plan");
    }
    if (typeof (obj as { toJSON?: unknown }).toJSON === "function") {
      return walk((obj as { toJSON(): unknown }).toJSON(), path);
    }
    seen.add(obj);
    let out: unknown;
    if (Array.isArray(obj)) {
      out = obj.map((item, i) => {
        const v = walk(item, `${path}[${i}]`);
        return v === undefined ? null : v;
      });
    } else {
      const record: Record<string, unknown> = {};
      for (const key of Object.keys(obj)) {
        const v = walk((obj as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
        if (v !== undefined) record[key] = v;
      }
      out = record;
    }
    seen.delete(obj);
    return out;
  };

  const value = walk(props, "");
  return { value: value === undefined ? {} : value, deps: [...deps].sort(), unknown };
}

/** Deep equality of two JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isSecret(a) || isSecret(b)) return isSecret(a) && isSecret(b) && a.unwrap() === b.unwrap();
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** One changed value between two props trees. */
export interface PropChange {
  /** Dotted path, e.g. `bindings.KV.title` or `tags[2]`; empty for the whole value. */
  path: string;
  before: unknown;
  after: unknown;
}

/** The paths at which two JSON values differ, leaves first found first. */
export function diffJson(before: unknown, after: unknown, path = ""): PropChange[] {
  if (jsonEqual(before, after)) return [];
  const bothObjects =
    before !== null && after !== null && typeof before === "object" && typeof after === "object" &&
    Array.isArray(before) === Array.isArray(after) && !isSecret(before) && !isSecret(after);
  if (!bothObjects) return [{ path, before, after }];
  const changes: PropChange[] = [];
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) changes.push(...diffJson(before[i], after[i], `${path}[${i}]`));
    return changes;
  }
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    changes.push(...diffJson(b[key], a[key], path ? `${path}.${key}` : key));
  }
  return changes;
}
