/**
 * The PostgreSQL state store, a subpath export so that `pg` stays an optional
 * dependency of `alchemy`.
 *
 * @example
 * import alchemy from "alchemy";
 * import { PostgresStateStore } from "alchemy/state/postgres";
 *
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new PostgresStateStore(scope, { connectionString: process.env.DATABASE_URL }),
 * });
 *
 * @module
 */
export { PostgresStateStore, type PostgresStateStoreOptions } from "./postgres-state-store.js";
export { DATABASE_URL_VARIABLE, DEFAULT_SCHEMA } from "./connection-string.js";
export { SCHEMA_VERSION } from "./schema-migrations.js";
