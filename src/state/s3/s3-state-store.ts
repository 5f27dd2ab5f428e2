/**
 * State in an S3 bucket (AWS S3, or any service speaking the S3 API): the
 * store in a bucket of `../objects/object-state-store.ts`, where what is
 * atomic and what is not is said, over {@link S3Bucket}.
 *
 * The stage lock needs conditional writes (`If-None-Match: *`,
 * `If-Match: <etag>`, 412 when they fail), which AWS S3 has offered since
 * 2024 and R2 offers too. On an endpoint that ignores them a probe sees a
 * second create-only PUT succeed, and locking is refused with an error
 * rather than handing the stage to two runs; such an endpoint can still
 * hold state for `stateLocking: false` runs, with no protection against two
 * runs at once.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { plainHttpUrl } from "../../core/plain-http-url.js";
import { Credentials } from "../../core/profiles/credentials.js";
import { ObjectStateStore } from "../objects/object-state-store.js";
import type { StateStoreScope } from "../state-store.js";
import { S3Bucket } from "./s3-bucket.js";
import { s3Connection, type S3ConnectionSettings, type S3Credentials } from "./s3-connection.js";

/** Options of {@link S3StateStore}. */
export interface S3StateStoreOptions {
  /** The bucket (it must exist), e.g. `"my-state"`. */
  bucket: string;
  /**
   * Where in the bucket the state lives: keys start with `<prefix>/`.
   * @default "" (keys start with the application name)
   */
  prefix?: string;
  /** @default the profile's aws.region, else AWS_REGION, else AWS_DEFAULT_REGION, else "us-east-1" */
  region?: string;
  /** Another endpoint than AWS S3's, e.g. `http://127.0.0.1:4568` or `https://<account>.r2.cloudflarestorage.com`. */
  endpoint?: string;
  /** Path-style addressing (`<endpoint>/<bucket>/<key>`), which most emulators need. @default false */
  forcePathStyle?: boolean;
  /** An access key. @default the profile's aws section, else the AWS SDK's default chain (environment, shared config) */
  credentials?: S3Credentials;
  /**
   * The profile whose `aws` section gives credentials and region.
   * @default the run's profile (`--profile`), else process.env.ALCHEMY_PROFILE ?? "default"
   */
  profile?: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * A {@link StateStore} keeping each record as an object of an S3 bucket,
 * locking stages with a lock object changed by conditional PUTs.
 * Credentials are looked up on first use, not by the constructor.
 *
 * @example
 * import { S3StateStore } from "alchemy/state/s3";
 * const app = await alchemy("my-app", {
 *   stateStore: (scope) => new S3StateStore(scope, { bucket: "my-state", prefix: "alchemy", region: "eu-west-1" }),
 * });
 */
export class S3StateStore extends ObjectStateStore {
  /**
   * @throws ScopeError when a segment of `scope.chain` is not a valid name.
   * @throws StateStoreError when `bucket` is not a bucket name, or `prefix` or `endpoint` is malformed.
   */
  constructor(scope: StateStoreScope, options: S3StateStoreOptions) {
    const bucket = checkBucketName(options.bucket, "s3");
    const endpoint = checkEndpoint(options.endpoint, `s3://${bucket}`);
    const profile = options.profile ?? scope.profile ?? process.env.ALCHEMY_PROFILE ?? "default";
    const connect = () => new S3Bucket(s3Connection(s3Settings(options, endpoint, profile)), bucket);
    super(scope, { prefix: options.prefix, bucketUrl: `s3://${bucket}`, connect });
  }
}

/** Endpoint, region and credentials, as the options, the profile and the environment give them. */
function s3Settings(options: S3StateStoreOptions, endpoint: string | undefined, profile: string): S3ConnectionSettings {
  const aws = Credentials.fromEnv(profile, process.env).tryFor("aws") ?? {};
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  const region = options.region ?? text(aws.region) ?? text(process.env.AWS_REGION) ?? text(process.env.AWS_DEFAULT_REGION) ?? "us-east-1";
  const base = { region, endpoint, forcePathStyle: options.forcePathStyle };
  if (options.credentials !== undefined) return { ...base, credentials: options.credentials, credentialsFrom: "the store's credentials option" };
  const accessKeyId = text(aws.accessKeyId);
  const secretAccessKey = text(aws.secretAccessKey);
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    return { ...base, credentials: { accessKeyId, secretAccessKey, sessionToken: text(aws.sessionToken) }, credentialsFrom: `profile "${profile}" (aws section)` };
  }
  return { ...base, credentialsFrom: "the AWS SDK's default chain: environment, shared config and credentials files" };
}

/**
 * `name` when it is a bucket name (3-63 lowercase letters, digits, `-` and `.`).
 *
 * @throws StateStoreError naming the rule.
 */
export function checkBucketName(name: unknown, scheme: "s3" | "r2"): string {
  if (typeof name === "string" && BUCKET_NAME.test(name) && !name.includes("..")) return name;
  throw new StateStoreError(
    `${JSON.stringify(name)} is not a bucket name: use 3-63 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit.`,
    `${scheme}://${String(name)}`,
  );
}

/**
 * `endpoint` when it is an http(s) URL without credentials, query or fragment.
 *
 * @throws StateStoreError naming the store.
 */
export function checkEndpoint(endpoint: string | undefined, where: string): string | undefined {
  if (endpoint === undefined) return undefined;
  if (!plainHttpUrl(endpoint)) {
    throw new StateStoreError(`The endpoint of the state store in ${where} must be an http(s) URL without credentials, query or fragment, such as https://s3.eu-west-1.amazonaws.com.`, where);
  }
  return endpoint.replace(/\/+$/, "");
}
