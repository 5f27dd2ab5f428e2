/**
 * One thing a destroy or orphan clean-up deletes: a resource record, or an
 * earlier instance of a resource that was replaced.
 *
 * @module
 */
import type { State } from "../state/state-store.js";
import type { Scope } from "./scope.js";

export interface DeletionItem {
  /** The scope holding the record. */
  scope: Scope;
  /** The record as last read or written. */
  state: State;
  /** Set for a replaced instance: its index in `state.replaced`. */
  replacedIndex?: number;
}

/** A key unique per item: the fqn, suffixed for replaced instances. */
export function itemKey(item: DeletionItem): string {
  return item.replacedIndex === undefined ? item.state.fqn : replacedKey(item.state.fqn, item.replacedIndex);
}

/** The key of the replaced instance `index` of the resource `fqn`. */
export function replacedKey(fqn: string, index: number): string {
  return `${fqn}#replaced-${index}`;
}

/** Whether deleting `item` would delete a protected resource (a replaced instance is never protected). */
export function isProtected(item: DeletionItem): boolean {
  return item.replacedIndex === undefined && item.state.protect === true;
}

/**
 * The fqns, sorted, of the protected resources among `items`: deleting any
 * of them fails with `ProtectedResourceError` before anything is deleted.
 */
export function protectedAmong(items: readonly DeletionItem[]): string[] {
  return items.filter(isProtected).map((item) => item.state.fqn).sort();
}
