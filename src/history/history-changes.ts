/**
 * The changes an entry lists, with every secret shown as `[secret]`: neither a
 * secret's value (a `Secret` in the engine's events) nor its ciphertext (a
 * sealed `{ "@secret": envelope }` in a stored record) ever reaches an entry.
 *
 * @module
 */
import { diffJson, type PropChange } from "../core/props.js";
import { isSecret } from "../core/secrets/secret.js";
import type { State } from "../state/state-store.js";
import type { HistoryAction, HistoryChange } from "./history-entry.js";

/** What an entry shows in place of a secret. */
export const SECRET_SHOWN = "[secret]";

/**
 * `value` with every secret (a `Secret`, or a sealed `{ "@secret": ... }`)
 * replaced by `[secret]`; a fresh copy, JSON values only.
 *
 * @example
 * redactSecrets({ token: { "@secret": "v1:..." }, name: "a" }); // { token: "[secret]", name: "a" }
 */
export function redactSecrets(value: unknown): unknown {
  if (isSecret(value) || isSealed(value) || (typeof value === "string" && value.startsWith(SEALED_LEAF))) return SECRET_SHOWN;
  if (value === null || typeof value !== "object") return typeof value === "number" && !Number.isFinite(value) ? null : value;
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : redactSecrets(v)));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
    Object.defineProperty(out, key, { value: redactSecrets(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The changes of engine events (update), secrets redacted. */
export function redactChanges(changes: readonly PropChange[]): HistoryChange[] {
  return changes.map((c) => entryChange(c.path, c.before, c.after));
}

/**
 * The prop paths at which two stored records differ. A sealed secret whose
 * ciphertext changed counts as changed (`[secret]` -> `[secret]`): from the
 * records alone it cannot be told whether its value did.
 */
export function recordChanges(before: State | undefined, after: State | undefined): HistoryChange[] {
  const from = sealedAsLeaves(before?.props ?? (after ? {} : undefined));
  const to = sealedAsLeaves(after?.props ?? (before ? {} : undefined));
  return diffJson(from, to).map((c) => entryChange(c.path, c.before, c.after));
}

/** The action that takes a record from `before` to `after`. */
export function recordAction(before: State | undefined, after: State | undefined): HistoryAction {
  if (before === undefined) return "create";
  if (after === undefined) return "delete";
  return "update";
}

function entryChange(path: string, before: unknown, after: unknown): HistoryChange {
  const change: HistoryChange = { path };
  if (before !== undefined) change.before = redactSecrets(before);
  if (after !== undefined) change.after = redactSecrets(after);
  return change;
}

/** Marks a sealed secret turned into a leaf for diffing; only in memory, redacted before any entry is made. */
const SEALED_LEAF = "\u0000sealed:";

/** `value` with each sealed secret replaced by one string (so a diff stops there, and sees a new ciphertext as a change). */
function sealedAsLeaves(value: unknown): unknown {
  if (isSealed(value)) return SEALED_LEAF + JSON.stringify((value as Record<string, unknown>)["@secret"]);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(sealedAsLeaves);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) Object.defineProperty(out, key, { value: sealedAsLeaves(v), enumerable: true, writable: true, configurable: true });
  return out;
}

function isSealed(value: unknown): boolean {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === "@secret";
}
