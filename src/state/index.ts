/**
 * State stores: the {@link StateStore} interface every store implements, the
 * in-memory reference store and the default file-system store.
 *
 * @example
 * import { FileSystemStateStore } from "alchemy/state";
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new FileSystemStateStore(scope, { dir: ".alchemy" }),
 * });
 *
 * @module
 */
export {
  RESOURCE_STATUSES,
  type ReplacedInstance,
  type ResourceStatus,
  type State,
  type StateStore,
  type StateStoreFactory,
  type StateStoreScope,
} from "./state-store.js";
export {
  MemoryStateStore,
  MemoryStateTree,
  createMemoryStateTree,
  type MemoryStateStoreOptions,
} from "./memory/memory-state-store.js";
export { FileSystemStateStore, type FileSystemStateStoreOptions } from "./fs/fs-state-store.js";
