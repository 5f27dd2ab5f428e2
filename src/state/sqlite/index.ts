/**
 * The SQLite state store: every record of every stage in one database file.
 * Needs the optional peer dependency `better-sqlite3`.
 *
 * @example
 * import alchemy from "alchemy";
 * import { SQLiteStateStore } from "alchemy/state/sqlite";
 *
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new SQLiteStateStore(scope, { filename: ".alchemy/state.sqlite" }),
 * });
 *
 * @module
 */
export { SQLiteStateStore, type SQLiteStateStoreOptions } from "./sqlite-state-store.js";
export { SCHEMA_VERSION } from "./schema.js";
