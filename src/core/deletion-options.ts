/**
 * `protect` and `retain`: what a program says about deleting one resource,
 * given as the third argument of a resource call, or for a whole scope on
 * `alchemy.run`. Resources declared in a scope (and in the scope of a
 * resource, by its handler) inherit the scope's; a resource's own value wins.
 * Both are recorded in the resource's record whenever they change, even when
 * the props are unchanged and the handler is not called.
 *
 * @module
 */
import type { State } from "../state/state-store.js";

/**
 * Options of one resource call.
 *
 * @example
 * await Bucket("assets", { name: "assets" }, { protect: true });
 * await alchemy.run("data", { retain: true }, async () => { ... });
 */
export interface DeletionOptions {
  /**
   * A run that would delete or replace this resource (orphan clean-up,
   * `alchemy destroy`, `alchemy.destroy`, a replacement) fails before
   * anything is deleted, naming it. Deploy once with `protect: false` (or run
   * `alchemy state unprotect <fqn>`) to let it go.
   *
   * @default false, or the scope's
   */
  protect?: boolean;
  /**
   * When the resource leaves the program, its stage is destroyed or it is
   * replaced, its record is forgotten and its delete handler is not called:
   * the real resource stays. The run reports it as `retained (not deleted)`.
   *
   * @default false, or the scope's
   */
  retain?: boolean;
}

const KEYS = ["protect", "retain"] as const;

/**
 * Checks what a program passed as options; `where` names the call in the error.
 *
 * @throws TypeError naming the call and the option
 */
export function checkDeletionOptions(value: unknown, where: string): DeletionOptions {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${where}: options must be an object such as { protect: true } or { retain: true }, got ${JSON.stringify(value) ?? typeof value}.`);
  }
  const options: DeletionOptions = {};
  for (const [key, option] of Object.entries(value)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new TypeError(`${where}: unknown option "${key}"; a resource call takes ${KEYS.join(" and ")}.`);
    }
    if (option === undefined) continue;
    if (typeof option !== "boolean") throw new TypeError(`${where}: option ${key} must be true or false, got ${JSON.stringify(option) ?? typeof option}.`);
    options[key as (typeof KEYS)[number]] = option;
  }
  return options;
}

/** `inner` over `outer`, key by key. */
export function mergeDeletionOptions(outer: DeletionOptions, inner: DeletionOptions): DeletionOptions {
  return { ...outer, ...Object.fromEntries(Object.entries(inner).filter(([, v]) => v !== undefined)) };
}

/** `state` carrying `options` as records keep them: a field only when true. */
export function withDeletionOptions(state: State, options: DeletionOptions): State {
  const { protect: _p, retain: _r, ...rest } = state;
  return { ...rest, ...(options.protect ? { protect: true } : {}), ...(options.retain ? { retain: true } : {}) };
}

/**
 * How the options differ from what `state` records, e.g. `["protect: false -> true"]`.
 *
 * @example
 * deletionOptionChanges({ ...state, protect: true }, { retain: true }); // ["protect: true -> false", "retain: false -> true"]
 */
export function deletionOptionChanges(state: State, options: DeletionOptions): string[] {
  return KEYS.filter((key) => !!state[key] !== !!options[key]).map((key) => `${key}: ${!!state[key]} -> ${!!options[key]}`);
}
