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
