/**
 * The Cloudflare R2 state store (through the REST API), a subpath export so
 * that stores a program does not use are never loaded.
 *
 * @example
 * import alchemy from "alchemy";
 * import { R2RestStateStore } from "alchemy/state/r2-rest";
 *
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new R2RestStateStore(scope, { bucket: "my-state", prefix: "alchemy" }),
 * });
 *
 * @module
 */
export { R2RestStateStore, type R2RestStateStoreOptions } from "./r2-rest-state-store.js";
