/**
 * Helpers for testing alchemy extensions: the conformance suites every state
 * store (and every store that locks stages) runs from its own test file.
 *
 * @example
 * import { describeStateStore } from "alchemy/testing";
 * describeStateStore("MyStateStore", async () => ({ factory: (scope) => new MyStateStore(scope) }));
 *
 * @module
 */
export {
  describeStateStore,
  type StateStoreHarness,
  type StateStoreSetup,
} from "./state-store-conformance.js";
export { describeStageLock } from "./stage-lock-conformance.js";
