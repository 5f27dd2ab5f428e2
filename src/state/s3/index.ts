/**
 * The S3 state stores, a subpath export so that stores a program does not
 * use are never loaded: `S3StateStore` (AWS S3 or any S3 API) and
 * `R2StateStore` (Cloudflare R2 through its S3 endpoint). Both need the
 * `@aws-sdk/client-s3` package, loaded on first use.
 *
 * @example
 * import alchemy from "alchemy";
 * import { S3StateStore } from "alchemy/state/s3";
 *
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new S3StateStore(scope, { bucket: "my-state", prefix: "alchemy", region: "eu-west-1" }),
 * });
 *
 * @module
 */
export { R2StateStore, type R2StateStoreOptions } from "./r2-state-store.js";
export { S3StateStore, type S3StateStoreOptions } from "./s3-state-store.js";
export type { S3Credentials } from "./s3-connection.js";
