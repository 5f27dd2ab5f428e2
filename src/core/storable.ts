/**
 * Values the engine can store exactly. Props and handler outputs are kept in
 * state as JSON and compared with what the next run declares, so every value
 * in them must come back from the store as it went in; anything JSON would
 * change or drop is refused with the resource's fqn, the value's path and
 * what to use instead. What is accepted and why is listed on
 * {@link toStorable}.
 *
 * @module
 */
import { UnstorableValueError, type ResourceError } from "./errors.js";
import { isSecret } from "./secrets/secret.js";

/**
 * How many levels of objects and arrays props and outputs may nest: `{ a: 1 }`
 * is one level, `{ a: [{}] }` three. Real configurations stay well under 30.
 * The limit keeps every recursive step far from the stack's end: V8's
 * `JSON.stringify` overflows at about 4,000 levels (less on a deeper stack),
 * and SQLite's JSON functions, which users may point at a state database,
 * refuse documents deeper than 1,000 (a record wraps props in up to 3 more).
 */
export const MAX_DEPTH = 256;

/** Whose value is checked, for messages. */
export interface StorableTarget {
  /** fqn of the resource, e.g. `my-app/dev/api`. */
  fqn: string;
  /** First segment of every path in messages. */
  root: "props" | "output";
  /** What the engine was doing: `plan` for props, the handler phase for an output. */
  operation: ResourceError["operation"];
}

/**
 * Called for every object before it is checked; returns the value to store in
 * its place, or `undefined` to check and copy it as usual.
 */
export type StorableVisitor = (value: object) => unknown;

/** Marks a sealed secret in a stored record (see secret-codec.ts). */
const SEALED_MARK = "@secret";
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * A copy of `value` that JSON stores exactly, or an {@link UnstorableValueError}
 * naming the resource, the path and what to use instead.
 *
 * Accepted, as they are: strings, booleans, null, finite numbers (`-0` is
 * stored as `0`, which compares equal), arrays, plain objects (also with a
 * null prototype) and {@link Secret}s (sealed when the record is written).
 * `visit` adds the caller's own cases (resource outputs in props).
 *
 * Dropped, as JSON does and as always: object properties whose value is
 * `undefined`; `undefined` array elements and holes of sparse arrays become
 * `null` both in the copy and in state, so they never show as a change.
 * Symbol-keyed and non-enumerable properties are not data and are ignored.
 *
 * Kept as data: an own property named `__proto__` (e.g. from `JSON.parse`).
 *
 * Refused: NaN and ±Infinity (JSON turns them into null), BigInts, symbols,
 * functions, getters and setters (the stored value would be one reading of
 * them), Maps and Sets (JSON stores `{}`), Dates and URLs (they come back as
 * strings: pass `date.toISOString()` / `url.href`), RegExps, Errors,
 * Promises (a missing `await`), buffers and typed arrays, boxed primitives,
 * any other class instance or object with a prototype, arrays with extra
 * named properties, cycles, an object whose only key is `@secret` (the mark
 * of a sealed secret), and nesting deeper than {@link MAX_DEPTH}.
 *
 * @example
 * toStorable({ tags: new Map() }, { fqn: "app/dev/api", root: "props", operation: "plan" });
 * // throws: Props of "app/dev/api" cannot be stored: props.tags is a Map, ...
 */
export function toStorable(value: unknown, target: StorableTarget, visit?: StorableVisitor): unknown {
  const path: (string | number)[] = [];
  /** Objects on the way down, with the path length at which each was entered. */
  const ancestors = new Map<object, number>();

  const refuse = (what: string, fix: string): never => {
    const where = formatPath(target.root, path);
    throw new UnstorableValueError(`${intro(target)}: ${where} ${what}. ${fix}${outro(target)}`, target.fqn, target.operation, where);
  };

  const walk = (value: unknown): unknown => {
    switch (typeof value) {
      case "string":
      case "boolean":
      case "undefined":
        return value;
      case "number":
        if (Number.isFinite(value)) return value === 0 ? 0 : value;
        return refuse(`is ${value}, which JSON stores as null`, "Use a finite number, null or a string instead.");
      case "bigint":
        return refuse("is a BigInt, which JSON cannot store", "Use a number or a string instead, e.g. value.toString().");
      case "symbol":
        return refuse("is a symbol, which JSON cannot store", "Use a string instead.");
    }
    if (value === null) return null;
    if (isSecret(value)) return value;
    const replaced = visit?.(value as object);
    if (replaced !== undefined) return replaced;
    if (typeof value === "function") return refuse("is a function", `${target.root === "props" ? "Props" : "An output"} ${KINDS}`);
    const obj = value as object;
    const enteredAt = ancestors.get(obj);
    if (enteredAt !== undefined) {
      return refuse(
        `refers back to ${formatPath(target.root, path.slice(0, enteredAt))} (a cycle)`,
        "Stored values must be trees: copy the shared part instead of referring to it.",
      );
    }
    if (ancestors.size >= MAX_DEPTH) {
      return refuse(`nests deeper than ${MAX_DEPTH} levels`, "Flatten the structure, or pass the deep part as one string (JSON.stringify).");
    }
    ancestors.set(obj, path.length);
    const copy = Array.isArray(obj) ? copyArray(obj) : copyObject(obj);
    ancestors.delete(obj);
    return copy;
  };

  const copyArray = (array: unknown[]): unknown[] => {
    const out = new Array<unknown>(array.length);
    let holes = 0;
    for (let i = 0; i < array.length; i++) {
      if (!(i in array)) holes++;
      path.push(i);
      const item = walk(array[i]);
      path.pop();
      out[i] = item === undefined ? null : item;
    }
    const keys = Object.keys(array);
    if (keys.length !== array.length - holes) {
      const extra = keys.find((key) => !/^(0|[1-9]\d*)$/.test(key));
      refuse(`is an array with the extra property ${JSON.stringify(extra)}, which JSON drops`, "Use a plain array (e.g. [...list]) or an object.");
    }
    return out;
  };

  const copyObject = (obj: object): Record<string, unknown> => {
    const problem = classProblem(obj);
    if (problem) refuse(problem.what, problem.fix);
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === SEALED_MARK && typeof (obj as Record<string, unknown>)[SEALED_MARK] === "string") {
      refuse(
        `is an object whose only key is "${SEALED_MARK}", which state reserves for sealed secrets`,
        "Use alchemy.secret(value) for a secret, or add or rename a key.",
      );
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const field = Object.getOwnPropertyDescriptor(obj, key);
      if (field === undefined) continue; // removed meanwhile (a proxy)
      path.push(key);
      if (field.get || field.set) {
        refuse(
          field.get ? "is a getter, whose stored value would be only what it returned once" : "is a setter without a value",
          "Store a plain value: copy it into a data property, e.g. { ...object }.",
        );
      }
      const item = walk(field.value);
      path.pop();
      if (item === undefined) continue;
      if (key === "__proto__") Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
      else out[key] = item;
    }
    return out;
  };

  return walk(value);
}

const KINDS = "must hold JSON values (strings, numbers, booleans, null, arrays, plain objects), secrets or resource outputs.";

function intro(target: StorableTarget): string {
  return target.root === "props"
    ? `Props of "${target.fqn}" cannot be stored`
    : `The ${target.operation} handler of "${target.fqn}" returned an output that cannot be stored`;
}

function outro(target: StorableTarget): string {
  return target.root === "props" ? "" : " The output was not recorded.";
}

/** What is wrong with `obj` as a stored object, when it is not a plain object. */
function classProblem(obj: object): { what: string; fix: string } | undefined {
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (proto === null || proto === Object.prototype || isForeignObjectPrototype(proto)) return undefined;
  const tag = Object.prototype.toString.call(obj).slice(8, -1);
  const name = constructorName(proto) ?? tag;
  switch (tag) {
    case "Map":
      return { what: "is a Map, which JSON stores as {} (its entries and their changes would be lost)", fix: "Use a plain object instead, e.g. Object.fromEntries(map)." };
    case "Set":
      return { what: "is a Set, which JSON stores as {} (its values and their changes would be lost)", fix: "Use an array instead, e.g. [...set]." };
    case "Date":
      return { what: "is a Date, which would come back from state as a string", fix: "Pass the string instead, e.g. date.toISOString()." };
    case "RegExp":
      return { what: "is a RegExp, which JSON stores as {}", fix: "Pass its source as a string instead (regex.source)." };
    case "Promise":
      return { what: "is a Promise (a missing await?)", fix: "Await it and use its result instead." };
    case "Error":
      return { what: `is an error (${name}), which JSON stores as {}`, fix: "Use its message instead (error.message)." };
    case "String":
    case "Number":
    case "Boolean":
      return { what: `is a ${tag} object`, fix: "Use the primitive value instead (value.valueOf())." };
  }
  if (name === "URL") return { what: "is a URL, which would come back from state as a string", fix: "Pass the string instead (url.href)." };
  if (ArrayBuffer.isView(obj) || tag === "ArrayBuffer" || tag === "SharedArrayBuffer") {
    return { what: `is a ${name}, which would not come back from state as one`, fix: 'Use a string instead, e.g. Buffer.from(bytes).toString("base64").' };
  }
  const described = constructorName(proto) ? `an instance of ${name}` : "an object with a prototype";
  return {
    what: `is ${described}, whose class, inherited properties and getters would not be stored`,
    fix: "Use a plain object with the values you need instead (e.g. { ...value } copies its own fields).",
  };
}

/** `Object.prototype` of another realm (a `vm` context, a worker's structured clone). */
function isForeignObjectPrototype(proto: object): boolean {
  return Object.getPrototypeOf(proto) === null && constructorName(proto) === "Object";
}

function constructorName(proto: object): string | undefined {
  const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value as unknown;
  return typeof ctor === "function" && ctor.name ? ctor.name : undefined;
}

/**
 * A path for messages: `props.tags`, `output.list[2]`, `props["my key"]`;
 * very deep paths keep their first and last segments.
 */
export function formatPath(root: string, path: readonly (string | number)[]): string {
  const segment = (s: string | number) => (typeof s === "number" ? `[${s}]` : IDENTIFIER.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`);
  if (path.length <= 12) return root + path.map(segment).join("");
  return `${root}${path.slice(0, 6).map(segment).join("")}…(${path.length - 10} more)…${path.slice(-4).map(segment).join("")}`;
}
