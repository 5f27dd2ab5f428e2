/**
 * Helpers for testing alchemy extensions: the conformance suite every state
 * store runs from its own test file.
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
