/**
 * A state store in a Cloudflare R2 bucket, through Cloudflare's REST API
 * (`/accounts/:id/r2/buckets/:bucket/objects/...`) with an API token: the
 * store in a bucket of `../objects/object-state-store.ts` (what is atomic and
 * what is not is said there) over {@link R2RestBucket}.
 *
 * Cost: Cloudflare allows 1,200 API requests per 5 minutes per token, and
 * the client keeps under it by waiting. Reading a whole scope takes one
 * listing per 1,000 keys plus one GET per record; a fenced write takes its
 * PUT plus a lock read shared with the writes asked for meanwhile. Stages of
 * thousands of records are better kept in a store with batch reads, or in R2
 * through its S3 API (`S3StateStore`), which has no such request budget.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { Credentials } from "../../core/profiles/credentials.js";
import { cloudflareCredentials, CloudflareCredentials } from "../../providers/cloudflare/remote/credentials.js";
import type { RequestLimits } from "../../providers/cloudflare/remote/request-limiter.js";
import { ObjectStateStore } from "../objects/object-state-store.js";
import type { StateStoreScope } from "../state-store.js";
import { r2Connection } from "./r2-connection.js";
import { R2RestBucket } from "./r2-rest-bucket.js";

/** Options of {@link R2RestStateStore}. */
export interface R2RestStateStoreOptions {
  /** The R2 bucket (it must exist), e.g. `"my-state"`. */
  bucket: string;
  /**
   * Where in the bucket the state lives: keys start with `<prefix>/`.
   * @default "" (keys start with the application name)
   * @example "alchemy/state"
   */
  prefix?: string;
  /**
   * The Cloudflare account of the bucket.
   * @default the credentials' account id, else the first account the token sees
   */
  accountId?: string;
  /**
   * An API token with "Workers R2 Storage Write" on the account. With it, the
   * profile and the environment are not consulted.
   * @default the `cloudflare.apiToken` of the profile, else CLOUDFLARE_API_TOKEN (see `cloudflareCredentials`)
   */
  apiToken?: string;
  /**
   * The REST API's base URL; only together with `apiToken`, so that a token
   * from the profile or the environment goes nowhere it was not meant for.
   * @default "https://api.cloudflare.com/client/v4"
   */
  baseUrl?: string;
  /**
   * The credential profile whose `cloudflare` section gives the token when
   * `apiToken` is not set.
   * @default the run's profile (`--profile`), else process.env.ALCHEMY_PROFILE ?? "default"
   */
  profile?: string;
  /**
   * The fetch the requests go through (a proxy, a test). Stores with the same
   * credentials and fetch share one client, request budget and lock fence.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The client's request budget; raise it only for an endpoint with another limit.
   * @default 1,200 requests per 5 minutes (Cloudflare's)
   */
  requestLimits?: RequestLimits;
}

/**
 * A {@link StateStore} keeping each record as an object of an R2 bucket,
 * through Cloudflare's REST API, and locking stages with a lock object
 * changed by conditional PUTs (see `../objects/object-state-store.ts` for
 * what is atomic and what is not).
 *
 * Credentials are looked up on first use, not by the constructor.
 *
 * @example
 * import { R2RestStateStore } from "alchemy/state/r2-rest";
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new R2RestStateStore(scope, { bucket: "my-state", prefix: "alchemy" }),
 * });
 */
export class R2RestStateStore extends ObjectStateStore {
  /**
   * @throws ScopeError when a segment of `scope.chain` is not a valid name.
   * @throws StateStoreError when `bucket` is not an R2 bucket name, `prefix` is malformed, or `baseUrl` comes without `apiToken`.
   */
  constructor(scope: StateStoreScope, options: R2RestStateStoreOptions) {
    const bucket = options.bucket;
    if (typeof bucket !== "string" || !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new StateStoreError(
        `${JSON.stringify(bucket)} is not an R2 bucket name: use 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit.`,
        `r2://${String(bucket)}`,
      );
    }
    const s3Keys = ["accessKeyId", "secretAccessKey"].filter((name) => Object.hasOwn(options, name));
    if (s3Keys.length > 0) {
      // Seed 002's example passes S3 keys; this store speaks Cloudflare's REST API, which takes an API token.
      throw new StateStoreError(
        `The R2 REST state store got ${s3Keys.join(" and ")}, which it does not use: it authenticates with a Cloudflare API token. ` +
          `Pass apiToken (a token with "Workers R2 Storage Write"), or leave it out to use the profile's cloudflare.apiToken or CLOUDFLARE_API_TOKEN.`,
        `r2://${bucket}`,
      );
    }
    if (options.baseUrl !== undefined && options.apiToken === undefined) {
      throw new StateStoreError(
        `The R2 state store got a baseUrl without an apiToken: pass both, or neither (the profile's or the environment's cloudflare settings then give both).`,
        `r2://${bucket}`,
      );
    }
    const { apiToken, accountId, baseUrl, fetch, requestLimits } = options;
    const profile = options.profile ?? scope.profile ?? process.env.ALCHEMY_PROFILE ?? "default";
    // The token stays in this closure until the credentials (which never show it) are made.
    const connect = () => {
      const credentials =
        apiToken !== undefined
          ? new CloudflareCredentials({ kind: "token", secret: apiToken, accountId, baseUrl, profile, source: "program" })
          : cloudflareCredentials(Credentials.fromEnv(profile, process.env).tryFor("cloudflare"), process.env, profile);
      const connection = r2Connection(credentials, { fetch, limits: requestLimits });
      return new R2RestBucket(connection, bucket, async () => accountId ?? (await connection.api.accountId()));
    };
    super(scope, { prefix: options.prefix, bucketUrl: `r2://${bucket}`, connect });
  }
}
