/**
 * State in a Cloudflare R2 bucket through R2's S3 endpoint
 * (`https://<account>.r2.cloudflarestorage.com`, region `auto`), with an R2
 * access key: the same objects, keys and lock as `R2RestStateStore` writes
 * (the two can be used on one bucket, even by turns), without the REST API's
 * budget of 1,200 requests per 5 minutes.
 *
 * Credentials: the options, else the profile's `cloudflare` section
 * (`r2AccessKeyId`, `r2SecretAccessKey`, `accountId`), else
 * `R2_ACCESS_KEY_ID`, `R2_SECRET_ACCESS_KEY` and `CLOUDFLARE_ACCOUNT_ID`.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { Credentials } from "../../core/profiles/credentials.js";
import { ObjectStateStore } from "../objects/object-state-store.js";
import type { StateStoreScope } from "../state-store.js";
import { S3Bucket } from "./s3-bucket.js";
import { s3Connection, type S3ConnectionSettings } from "./s3-connection.js";
import { checkBucketName, checkEndpoint } from "./s3-state-store.js";

/** Options of {@link R2StateStore}. */
export interface R2StateStoreOptions {
  /** The R2 bucket (it must exist). */
  bucket: string;
  /** Where in the bucket the state lives. @default "" */
  prefix?: string;
  /** The Cloudflare account of the bucket. @default the profile's cloudflare.accountId, else CLOUDFLARE_ACCOUNT_ID */
  accountId?: string;
  /** An R2 access key id (R2 > Manage API tokens). @default the profile's cloudflare.r2AccessKeyId, else R2_ACCESS_KEY_ID */
  accessKeyId?: string;
  /** Its secret. @default the profile's cloudflare.r2SecretAccessKey, else R2_SECRET_ACCESS_KEY */
  secretAccessKey?: string;
  /** `eu` for a bucket in the EU jurisdiction (its endpoint is `<account>.eu.r2.cloudflarestorage.com`). */
  jurisdiction?: "eu" | "fedramp";
  /** Another endpoint than R2's (an emulator). */
  endpoint?: string;
  /** @default the run's profile, else process.env.ALCHEMY_PROFILE ?? "default" */
  profile?: string;
}

/**
 * A {@link StateStore} in an R2 bucket through R2's S3 API.
 *
 * @example
 * import { R2StateStore } from "alchemy/state/s3";
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new R2StateStore(scope, { bucket: "my-state", accountId: "0123abcd" }),
 * });
 */
export class R2StateStore extends ObjectStateStore {
  /**
   * @throws StateStoreError when `bucket` is not a bucket name, or the prefix or endpoint is malformed.
   */
  constructor(scope: StateStoreScope, options: R2StateStoreOptions) {
    const bucket = checkBucketName(options.bucket, "r2");
    const endpoint = checkEndpoint(options.endpoint, `r2://${bucket}`);
    const profile = options.profile ?? scope.profile ?? process.env.ALCHEMY_PROFILE ?? "default";
    const connect = () => new S3Bucket(s3Connection(r2Settings(options, bucket, endpoint, profile)), bucket, "r2");
    super(scope, { prefix: options.prefix, bucketUrl: `r2://${bucket}`, connect });
  }
}

/**
 * Whether R2 S3 credentials are at hand for `profile`: the profile's
 * cloudflare.r2AccessKeyId, or R2_ACCESS_KEY_ID. An `r2://` store URL uses
 * R2's S3 API when they are, its REST API otherwise.
 */
export function hasR2AccessKey(profile: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const cloudflare = Credentials.fromEnv(profile, env).tryFor("cloudflare") ?? {};
  return typeof cloudflare.r2AccessKeyId === "string" || (env.R2_ACCESS_KEY_ID ?? "") !== "";
}

function r2Settings(options: R2StateStoreOptions, bucket: string, endpoint: string | undefined, profile: string): S3ConnectionSettings {
  const cloudflare = Credentials.fromEnv(profile, process.env).tryFor("cloudflare") ?? {};
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  const [fromOptions, fromProfile] = [options.accessKeyId !== undefined, text(cloudflare.r2AccessKeyId) !== undefined];
  const accessKeyId = options.accessKeyId ?? text(cloudflare.r2AccessKeyId) ?? text(process.env.R2_ACCESS_KEY_ID);
  const secretAccessKey = options.secretAccessKey ?? text(cloudflare.r2SecretAccessKey) ?? text(process.env.R2_SECRET_ACCESS_KEY);
  const accountId = options.accountId ?? text(cloudflare.accountId) ?? text(process.env.CLOUDFLARE_ACCOUNT_ID);
  const from = fromOptions ? "the store's options" : fromProfile ? `profile "${profile}" (cloudflare.r2AccessKeyId)` : "R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY";
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new StateStoreError(
      `The R2 state store for r2://${bucket} has no R2 access key (from ${from}: ${accessKeyId === undefined ? "no access key id" : "no secret"}). ` +
        `Make one under R2 > Manage API tokens, then run \`alchemy profile set ${profile} cloudflare.r2AccessKeyId=... cloudflare.r2SecretAccessKey=-\`, ` +
        `or set R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY.`,
      `r2://${bucket}`,
    );
  }
  if (endpoint === undefined && accountId === undefined) {
    throw new StateStoreError(
      `The R2 state store for r2://${bucket} does not know the Cloudflare account: pass accountId, run \`alchemy profile set ${profile} cloudflare.accountId=...\`, or set CLOUDFLARE_ACCOUNT_ID.`,
      `r2://${bucket}`,
    );
  }
  const host = `${accountId}${options.jurisdiction ? `.${options.jurisdiction}` : ""}.r2.cloudflarestorage.com`;
  return { region: "auto", endpoint: endpoint ?? `https://${host}`, forcePathStyle: endpoint !== undefined, credentials: { accessKeyId, secretAccessKey }, credentialsFrom: from };
}
