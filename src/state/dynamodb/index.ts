/**
 * The DynamoDB state store, a subpath export so that `@aws-sdk/client-dynamodb`
 * stays an optional dependency of `alchemy`.
 *
 * @example
 * import alchemy from "alchemy";
 * import { DynamoDBStateStore } from "alchemy/state/dynamodb";
 *
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new DynamoDBStateStore(scope, { table: "alchemy-state", region: "eu-west-1" }),
 * });
 *
 * @module
 */
export { DynamoDBStateStore, type DynamoDBStateStoreOptions } from "./dynamodb-state-store.js";
export type { StaticCredentials } from "./dynamodb-connection.js";
