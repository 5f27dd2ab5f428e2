/**
 * Props as the engine stores and compares them: JSON values, with the
 * dependencies (resource outputs found anywhere inside) collected on the way.
 *
 * @module
 */
import { isUnknownOutput, isUnknownText, resourceRefOf, Unknown } from "./output.js";
import { isSecret } from "./secrets/secret.js";
import { MAX_DEPTH, toStorable } from "./storable.js";

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
 * Serializes props to a JSON value, recording dependencies. Every value must
 * be stored exactly; see {@link toStorable} for what is accepted. In short:
 *
 * - JSON values, {@link Secret}s and resource outputs are kept (an output
 *   not known yet, in a plan, becomes its "(known after apply)" text).
 * - `undefined` properties are dropped and `undefined` array elements and
 *   sparse-array holes become `null`, as JSON does, so they never show as a
 *   change on the next run. `-0` is stored as `0`.
 * - An own `__proto__` key is kept as data.
 * - Everything else is refused before anything runs (no state written, no
 *   handler called) with the fqn, the prop's path and what to use instead:
 *   NaN and Infinity (would become null); a Date (would come back as a
 *   string: pass `date.toISOString()`, so the handler and `this.props` see
 *   the same string); a Map (pass `Object.fromEntries(map)`) or Set
 *   (`[...set]`), which JSON stores as `{}`; getters and setters (the record
 *   would hold one reading; pass the value); any other class instance
 *   (URL, RegExp, Buffer, Promise, Error, your own classes); BigInts,
 *   symbols and functions; cycles; an object whose only key is `@secret`;
 *   nesting deeper than {@link MAX_DEPTH} levels.
 *
 * @param fqn the resource the props belong to, for error messages
 * @throws UnstorableValueError naming `fqn` and the path, e.g. `props.tags`
 * @example
 * serializeProps({ name: "api", tags: { team: "web" } }, "my-app/dev/api").value;
 * // { name: "api", tags: { team: "web" } }
 * serializeProps({ tags: new Map() }, "my-app/dev/api");
 * // throws: Props of "my-app/dev/api" cannot be stored: props.tags is a Map, ...
 */
export function serializeProps(props: unknown, fqn: string): SerializedProps {
  const deps = new Set<string>();
  let unknown = false;
  const visit = (value: object): unknown => {
    if (value instanceof Unknown) {
      unknown = true;
      deps.add(value.fqn);
      return value.toJSON();
    }
    const ref = resourceRefOf(value);
    if (ref === undefined) return undefined;
    deps.add(ref.fqn);
    if (!isUnknownOutput(value)) return undefined;
    unknown = true;
    return new Unknown(ref.fqn, "").toJSON();
  };
  const value = toStorable(props, { fqn, root: "props", operation: "plan" }, visit);
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
    // Own values only: `b.__proto__` of an object without that key would be its prototype.
    changes.push(...diffJson(Object.hasOwn(b, key) ? b[key] : undefined, Object.hasOwn(a, key) ? a[key] : undefined, path ? `${path}.${key}` : key));
  }
  return changes;
}

/**
 * True when a planned props value holds a value known only after apply,
 * also inside a string built from one (`${folder.path}/index.html`).
 */
export function holdsUnknown(value: unknown): boolean {
  if (isUnknownText(value)) return true;
  if (value === null || typeof value !== "object" || isSecret(value)) return false;
  return Object.values(value).some(holdsUnknown);
}

/**
 * True when a changed prop's new value is known only after apply: the change
 * may vanish at deploy (the new value may equal the old one). A change to or
 * from an object or array around an unknown is certain.
 */
export function isUncertainChange(change: PropChange): boolean {
  return isUnknownText(change.after);
}

/**
 * True when a change at path `changed` touches the value at path `declared`:
 * the same path, a path inside it, or a value that holds it (the whole value
 * was added, removed or changed type). Paths are as {@link diffJson} writes
 * them; `*` in `declared` stands for any one key or index (`tags[*]`, `env.*.name`).
 *
 * @example
 * pathsOverlap("bindings.KV.id", "bindings.KV"); // true: inside it
 * pathsOverlap("parent", "parent.path");          // true: parent was replaced as a whole
 * pathsOverlap("tags[2]", "tags[*]");             // true
 * pathsOverlap("clean", "path");                  // false
 */
export function pathsOverlap(changed: string, declared: string): boolean {
  const a = pathSegments(changed);
  const b = pathSegments(declared);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (b[i] !== "*" && b[i] !== a[i]) return false;
  return true;
}

/** `a.b[2].c` -> `["a", "b", "2", "c"]`; the empty path (the whole value) -> `[]`. */
function pathSegments(path: string): string[] {
  return path.replace(/\[([^\]]*)\]/g, ".$1").split(".").filter((segment) => segment !== "");
}
