/**
 * Checking, writing and reading a stage's metadata ({@link StageMeta}): a plain
 * JSON object that must come back exactly as it was written (it holds, for
 * instance, the salt and verifier of the stage's secrets). Shared by every
 * store, so that all accept and reject exactly the same values; it lives
 * beside the default (file-system) store, which the other stores already
 * build on.
 *
 * @module
 */
import { StateStoreError } from "../core/errors.js";
import type { StageMeta } from "./state-store.js";

/**
 * What keeps `value` from being stored as stage metadata, or `undefined` when
 * it is a plain object holding JSON values only (strings, finite numbers,
 * booleans, null, arrays and plain objects), so that it reads back equal.
 *
 * @example
 * stageMetaProblem({ secrets: { salt: new Uint8Array(16) } }); // "meta.secrets.salt is a Uint8Array, not a plain object"
 * stageMetaProblem([1]); // "is an array, not a plain object"
 */
export function stageMetaProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return `is ${describe(value)}, not a plain object`;
  return jsonProblem(value, "meta", new Set());
}

/**
 * The text a store keeps for `meta`: its JSON, indented by `space` if given.
 *
 * @throws StateStoreError naming `location` when `meta` is not a plain JSON
 *   object ({@link stageMetaProblem}); nothing is written then.
 * @example
 * stageMetaText({ secrets: { salt: "c2FsdA==" } }, "/abs/.alchemy/app/dev/~stage.json", 2);
 */
export function stageMetaText(meta: unknown, location: string, space?: number): string {
  const problem = stageMetaProblem(meta);
  if (problem !== undefined) {
    throw new StateStoreError(
      `Refusing to write the stage metadata at ${location}: the value ${problem}. ` +
        `This is a bug in the caller: pass a plain object holding only JSON values (encode bytes as base64 strings, dates as ISO strings).`,
      location,
    );
  }
  return JSON.stringify(meta, null, space);
}

/**
 * Parses stored metadata `text` (as read from a file or a row).
 *
 * @param fix what the reader can do about a damaged copy, e.g. "Restore it from a backup."
 * @throws StateStoreError naming `location` when `text` is not the JSON of a plain object; nothing is changed.
 * @example
 * parseStageMeta('{"secrets":{}}', "/abs/.alchemy/app/dev/~stage.json", "Restore the file from a backup.");
 */
export function parseStageMeta(text: unknown, location: string, fix: string): StageMeta {
  const damaged = (what: string, cause?: unknown) =>
    new StateStoreError(
      `The stage metadata at ${location} ${what}. Nothing was changed. ${fix}`,
      location,
      cause === undefined ? undefined : { cause },
    );
  if (typeof text !== "string") throw damaged(`holds ${text === null ? "null" : typeof text} data, not JSON text`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw damaged(text.length === 0 ? "is empty" : `is not valid JSON (${(error as Error).message})`, error);
  }
  if (!isPlainObject(value)) throw damaged(`is ${describe(value)}, not a JSON object`);
  return value as StageMeta;
}

/**
 * The error for a metadata call on a store that is not a stage scope's
 * (`chain` other than [app, stage]).
 *
 * @example
 * throw notAStageStore("read the stage metadata of", ["app", "dev", "backend"], "memory:app/dev/backend");
 */
export function notAStageStore(doing: string, chain: readonly string[], location: string): StateStoreError {
  const example = JSON.stringify([chain[0] ?? "my-app", chain[1] ?? "dev"]);
  return new StateStoreError(
    `Cannot ${doing} "${chain.join("/") || "/"}": stage metadata belongs to the store of a stage scope (app/stage). ` +
      `Call it on the store created for the stage's chain, e.g. { chain: ${example} }.`,
    location,
  );
}

function jsonProblem(value: unknown, at: string, enclosing: Set<object>): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${at} is ${value}, which JSON cannot hold`;
    case "object": {
      if (value === null) return undefined;
      if (enclosing.has(value)) return `${at} refers back to an object that holds it (a cycle)`;
      if (!Array.isArray(value) && !isPlainObject(value)) return `${at} is ${describe(value)}, not a plain object`;
      enclosing.add(value);
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            const problem = jsonProblem(value[i], `${at}[${i}]`, enclosing);
            if (problem !== undefined) return problem;
          }
          return undefined;
        }
        for (const key of Object.keys(value)) {
          const problem = jsonProblem((value as Record<string, unknown>)[key], keyPath(at, key), enclosing);
          if (problem !== undefined) return problem;
        }
        return undefined;
      } finally {
        enclosing.delete(value);
      }
    }
    default:
      return `${at} is ${typeof value === "undefined" ? "undefined (omit the key instead)" : `a ${typeof value}`}, which JSON cannot hold`;
  }
}

function keyPath(at: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return name ? `a ${name}` : "an object";
  }
  return `a ${typeof value}`;
}
