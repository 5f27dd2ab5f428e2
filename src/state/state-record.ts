/**
 * Checking that a value is a {@link State} record, and the messages a store
 * gives when one is not. Shared by the file-system and memory stores so both
 * accept and reject exactly the same records.
 *
 * @module
 */
import { StateStoreError } from "../core/errors.js";
import { RESOURCE_STATUSES, type State } from "./state-store.js";

/**
 * What is wrong with `value` as the record stored under `id`, or `undefined`
 * when it is a valid {@link State}. When `fqn` is given (the scope path the
 * record is stored under, plus `/<id>`), the record's own `fqn` must equal it:
 * a record claiming another app, stage or scope would make the engine act on
 * a resource that is not this scope's.
 *
 * @example
 * stateProblem({ status: "gone" }, "api"); // 'has status "gone", expected one of ...'
 * stateProblem({ ...state, fqn: "app/prod/api" }, "api", "app/dev/api"); // 'holds fqn "app/prod/api" but is stored as "app/dev/api" (...)'
 */
export function stateProblem(value: unknown, id: string, fqn?: string): string | undefined {
  if (!isPlainObject(value)) return `is ${describe(value)}, not a record object`;
  const v = value as Record<string, unknown>;
  if (!RESOURCE_STATUSES.includes(v.status as State["status"])) {
    return `has status ${describe(v.status)}, expected one of ${RESOURCE_STATUSES.join(", ")}`;
  }
  for (const field of ["kind", "id", "fqn"] as const) {
    if (typeof v[field] !== "string") return `has field "${field}" ${describe(v[field])}, expected a string`;
  }
  if (v.id !== id) return `holds id ${JSON.stringify(v.id)} but is stored under id ${JSON.stringify(id)}`;
  if (fqn !== undefined && v.fqn !== fqn) {
    return (
      `holds fqn ${JSON.stringify(clip(v.fqn as string, 300))} but is stored as ${JSON.stringify(fqn)} ` +
      `(a record describes only the resource stored at its place: if it is that resource, set its "fqn" to ${JSON.stringify(fqn)})`
    );
  }
  if (typeof v.seq !== "number" || !Number.isFinite(v.seq)) {
    return `has field "seq" ${describe(v.seq)}, expected a number`;
  }
  if (!isPlainObject(v.data)) return `has field "data" ${describe(v.data)}, expected an object`;
  if (!isStringArray(v.deps)) return `has field "deps" ${describe(v.deps)}, expected an array of fqn strings`;
  if (v.replaced !== undefined) {
    if (!Array.isArray(v.replaced)) return `has field "replaced" ${describe(v.replaced)}, expected an array`;
    const bad = v.replaced.findIndex((r) => !isPlainObject(r) || !isStringArray((r as { deps?: unknown }).deps));
    if (bad >= 0) return `has field "replaced[${bad}]" that is not an instance with a "deps" array`;
  }
  for (const field of ["protect", "retain"] as const) {
    if (v[field] !== undefined && typeof v[field] !== "boolean") return `has field "${field}" ${describe(v[field])}, expected true or false`;
  }
  return undefined;
}

/**
 * A record as a store read it, with what seed 002's format leaves out filled
 * in: seed 002 shows records without `deps`, and such a record records no
 * dependencies (`deps: []`). Anything else is returned as it is, for
 * {@link stateProblem} to judge. Only reads use it: every record this engine
 * writes carries its `deps`.
 *
 */
function withSeedDefaults(value: unknown): unknown {
  if (!isPlainObject(value) || (value as { deps?: unknown }).deps !== undefined) return value;
  return { ...(value as object), deps: [] };
}

/**
 * What is wrong with `value`, read from a store as the record stored under
 * `id` (at `fqn`), or the {@link State} it is: {@link stateProblem} after
 * {@link withSeedDefaults}, so every store reads seed 002's records alike.
 *
 * @example
 * const read = readStoredState(JSON.parse(text), "api", "my-app/prod/api");
 * if (typeof read === "string") throw corrupt(`is not a state record: it ${read}`);
 */
export function readStoredState(value: unknown, id: string, fqn: string): State | string {
  const state = withSeedDefaults(value);
  return stateProblem(state, id, fqn) ?? (state as State);
}

/**
 * Rejects a record the caller is about to write, so that a store never holds a
 * record it could not read back. `fqn`, when given, is the place the record is
 * written to (scope path plus `/<id>`), which its own `fqn` must equal.
 *
 * @example
 * assertWritableState(state, "api", "memory:my-app/dev/api", "my-app/dev/api");
 */
export function assertWritableState(state: unknown, id: string, location: string, fqn?: string): asserts state is State {
  const problem = stateProblem(state, id, fqn);
  if (problem === undefined) return;
  throw new StateStoreError(
    `Refusing to write record "${id}" at ${location}: the value ${problem}. ` +
      `This is a bug in the caller: pass a State record whose "id" is the id it is stored under and whose "fqn" is its scope's path plus that id.`,
    location,
  );
}

/**
 * `JSON.stringify(state, null, space)`, or a {@link StateStoreError} when the
 * record holds something JSON cannot represent (a BigInt, a cycle).
 *
 * @example
 * stateJson({ ...state, output: { n: 1n } }, "/abs/api.json"); // throws StateStoreError
 */
export function stateJson(state: unknown, location: string, space?: number): string {
  try {
    return JSON.stringify(state, null, space);
  } catch (error) {
    throw new StateStoreError(
      `Refusing to write the record at ${location}: it cannot be stored as JSON (${(error as Error).message}). ` +
        `Keep props, output and data to JSON values: no BigInt, no circular references.`,
      location,
      { cause: error },
    );
  }
}

/**
 * Parses the text of a record file stored as `fqn`; a record in seed 002's
 * format (no `deps`) reads as one without dependencies. Rejects with a
 * {@link StateStoreError} naming `file` (an absolute path), what is wrong and
 * how to fix it, also when the record's own `fqn` is not `fqn`.
 *
 * @example
 * parseStateFile(text, "/abs/.alchemy/app/dev/api.json", "api", "app/dev/api");
 */
export function parseStateFile(text: string, file: string, id: string, fqn: string): State {
  return parseStateText(text, id, fqn, (what, cause) => corruptRecord(file, fqn, what, cause));
}

/**
 * Parses the stored text of record `id` (stored as `fqn`), as
 * {@link parseStateFile} does, for any store: `corrupt(what, cause)` makes
 * the error naming where the text is kept and how to fix it, with `what`
 * saying what is wrong ("is empty", "is not valid JSON (...)", "is not a
 * state record: it ...").
 *
 * @example
 * parseStateText(text, "api", "app/dev/api", (what, cause) => new StateStoreError(`The record s3://b/app/dev/api.json ${what}.`, "s3://b/app/dev/api.json", { cause }));
 */
export function parseStateText(text: string, id: string, fqn: string, corrupt: (what: string, cause?: unknown) => Error): State {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw corrupt(text.length === 0 ? "is empty" : `is not valid JSON (${(error as Error).message})`, error);
  }
  const state = readStoredState(value, id, fqn);
  if (typeof state === "string") throw corrupt(`is not a state record: it ${state}`);
  return state;
}

/**
 * The error for a record file that cannot be read as a {@link State}.
 *
 * @example
 * throw corruptRecord("/abs/.alchemy/app/dev/api.json", "app/dev/api", "is empty");
 */
export function corruptRecord(file: string, fqn: string, what: string, cause?: unknown): StateStoreError {
  return new StateStoreError(
    `State file ${file} ${what}. Nothing was changed. ` +
      `Restore it from a backup, or remove the record with \`alchemy state rm ${fqn}\` or by deleting the file ` +
      `(the resource it describes is then no longer tracked).`,
    file,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The text of a record file: pretty JSON with a 2-space indent and a trailing newline.
 *
 * @example
 * serializeState(state); // '{\n  "status": "created",\n ...}\n'
 */
export function serializeState(state: State, location = state.fqn): string {
  return stateJson(state, location, 2) + "\n";
}

/**
 * Adds `value` under `key` as an own property, also when `key` is `__proto__`
 * (a valid resource id), which a plain assignment would turn into a prototype.
 *
 * @example
 * const out: Record<string, State> = {};
 * putEntry(out, "__proto__", state); // Object.keys(out) -> ["__proto__"]
 */
export function putEntry<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * `getBatch` for a store whose single reads are cheap: the records among `ids`
 * that exist, keyed by id.
 *
 * @example
 * async getBatch(ids) { return getEach(ids, (id) => this.get(id)); }
 */
export async function getEach(ids: string[], get: (id: string) => Promise<State | undefined>): Promise<Record<string, State>> {
  const found: Record<string, State> = {};
  for (const id of ids) {
    const state = await get(id);
    if (state !== undefined) putEntry(found, id, state);
  }
  return found;
}

function isPlainObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): boolean {
  return Array.isArray(value) && value.every((x) => typeof x === "string");
}

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) + "…" : text;
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(clip(value, 40));
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}
