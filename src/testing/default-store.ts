/**
 * The state store of a test scope that names none: the one `alchemy(...)`
 * would use, i.e. the store `$ALCHEMY_STATE_STORE` names (a store URL), else
 * the filesystem store in `<cwd>/.alchemy`.
 *
 * @module
 */
import path from "node:path";
import { AlchemyError } from "../core/errors.js";
import type { StateStoreFactory } from "../state/state-store.js";
import { describeLocation, parseStoreUrl, storeFactory, type StoreLocation } from "../state/store-url.js";

/** A test scope's store when the `stateStore` option is not given. */
export interface DefaultStore {
  /** What identifies the store among the test scopes of the process: where it is. */
  key: string;
  factory: StateStoreFactory;
  /** Set when it is the filesystem store in `<cwd>/.alchemy`, whose empty directories test scopes remove. */
  stateDir?: string;
}

/**
 * The default store, read from `env` and `cwd` at each call (a test may set
 * `$ALCHEMY_STATE_STORE` itself).
 *
 * @throws AlchemyError when `$ALCHEMY_STATE_STORE` is not a store URL.
 * @example
 * defaultStore({}, "/project"); // { key: "/project/.alchemy", factory, stateDir: "/project/.alchemy" }
 */
export function defaultStore(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): DefaultStore {
  const dotAlchemy = path.join(cwd, ".alchemy");
  let location: StoreLocation = { kind: "file", dir: dotAlchemy };
  if (env.ALCHEMY_STATE_STORE) {
    try {
      location = parseStoreUrl(env.ALCHEMY_STATE_STORE, cwd);
    } catch (error) {
      throw new AlchemyError(
        `$ALCHEMY_STATE_STORE is not a store URL: ${(error as Error).message} Fix or unset the variable, or give alchemy.test a stateStore option.`,
        { cause: error },
      );
    }
  }
  return {
    key: describeLocation(location),
    factory: storeFactory(location),
    stateDir: location.kind === "file" && location.dir === dotAlchemy ? dotAlchemy : undefined,
  };
}
