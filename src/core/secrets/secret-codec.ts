/**
 * Secrets in state records: on the way to the store every {@link Secret} in a
 * record's props, output, data and replaced instances becomes
 * `{ "@secret": "<envelope>" }`; on the way back each envelope becomes a
 * Secret again. The associated data of each value is the record's fqn and the
 * field's path (`props.db.password`), so a ciphertext moved to another record,
 * field or stage does not decrypt.
 *
 * @module
 */
import { putEntry } from "../../state/state-record.js";
import type { State } from "../../state/state-store.js";
import { isSecret, Secret } from "./secret.js";

const MARK = "@secret";
const FIELDS = ["props", "output", "data"] as const;

/** Seals one value: plaintext and associated data in, envelope out. */
export type Sealer = (plaintext: string, associatedData: string) => string;
/** Opens one envelope; throws when it cannot (the codec adds where). */
export type Opener = (envelope: string, associatedData: string, where: { fqn: string; path: string }) => string;

/** The associated data of the field at `path` of the record `fqn`. */
export function associatedData(fqn: string, path: string): string {
  return `${fqn}\n${path}`;
}

/** True when `state` holds a {@link Secret} that must be sealed before storing. */
export function needsSealing(state: State): boolean {
  return someLeaf(state, (v) => isSecret(v));
}

/** True when `state` (as read from a store) holds an envelope. */
export function isSealed(state: State): boolean {
  return someLeaf(state, isEnvelope);
}

/** The path of the first envelope in `state`, for messages. */
export function firstSealedPath(state: State): string | undefined {
  return firstPath(state, isEnvelope);
}

/** The path of the first {@link Secret} in `state`, for messages. */
export function firstSecretPath(state: State): string | undefined {
  return firstPath(state, isSecret);
}

function firstPath(state: State, test: (value: unknown) => boolean): string | undefined {
  let found: string | undefined;
  mapRecord(state, (value, path) => {
    if (found === undefined && test(value)) found = path;
    return found === undefined ? undefined : value;
  });
  return found;
}

/** `state` with every Secret sealed. */
export function sealState(state: State, seal: Sealer): State {
  return mapRecord(state, (value, path) => (isSecret(value) ? { [MARK]: seal(value.unwrap(), associatedData(state.fqn, path)) } : undefined));
}

/** `state` with every envelope opened into a Secret. */
export function openState(state: State, openOne: Opener): State {
  return mapRecord(state, (value, path) =>
    isEnvelope(value) ? new Secret(openOne(value[MARK], associatedData(state.fqn, path), { fqn: state.fqn, path })) : undefined,
  );
}

function isEnvelope(value: unknown): value is { [MARK]: string } {
  if (value === null || typeof value !== "object" || Array.isArray(value) || isSecret(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === MARK && typeof (value as Record<string, unknown>)[MARK] === "string";
}

function someLeaf(state: State, test: (value: unknown) => boolean): boolean {
  let hit = false;
  mapRecord(state, (value) => {
    if (!hit && test(value)) hit = true;
    return undefined;
  });
  return hit;
}

/**
 * Copies `state`, replacing each value for which `replace` returns something
 * other than `undefined`; values it leaves are walked into.
 */
function mapRecord(state: State, replace: (value: unknown, path: string) => unknown): State {
  const walk = (value: unknown, path: string): unknown => {
    const replaced = replace(value, path);
    if (replaced !== undefined) return replaced;
    if (value === null || typeof value !== "object" || isSecret(value)) return value;
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}[${i}]`));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) putEntry(out, key, walk(item, `${path}.${key}`));
    return out;
  };
  const copy: State = { ...state };
  for (const field of FIELDS) if (state[field] !== undefined) (copy as unknown as Record<string, unknown>)[field] = walk(state[field], field);
  if (state.replaced) {
    copy.replaced = state.replaced.map((instance, i) => ({
      ...instance,
      props: walk(instance.props, `replaced[${i}].props`),
      output: walk(instance.output, `replaced[${i}].output`),
    }));
  }
  return copy;
}
