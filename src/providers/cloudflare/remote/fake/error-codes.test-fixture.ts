/**
 * The error codes the fake answers with, in one table, each with where it comes from.
 *
 * - "documented": in Cloudflare's own reference (the API's OpenAPI schemas as published at
 *   developers.cloudflare.com/api, or a product's error-code page).
 * - "observed": not in a reference, but seen in Cloudflare's answers as quoted by public client
 *   code and issue threads (wrangler's source and `[code: N]` error output, other tools that
 *   branch on the code). Likely right, not guaranteed.
 * - "chosen": nothing found; picked to look plausible. A client must not branch on these.
 *
 * Sources: Workers `workers_ErrorWorkerNotFound` (10007) and `workers_ErrorWorkerInvalid` (10021)
 * schemas; the R2 error-code page developers.cloudflare.com/r2/api/error-codes (10005, 10006,
 * 10008); wrangler's `d1 create` (7502), its KV upsert (10014), public scripts accepting
 * `[code: 10004]` for `wrangler r2 bucket create` and `[code: 11009]` for `wrangler queues
 * create`; the KV error list quoted by public tools (10009, 10013, 10019); workers-sdk issue 9418
 * (10085, an R2 bucket a Worker binds is missing).
 */

/** Where an error code in {@link CODES} comes from. */
export type CodeSource = "documented" | "observed" | "chosen";

/** One error the fake can answer with. */
export interface ErrorCode {
  readonly code: number;
  readonly source: CodeSource;
}

const code = (value: number, source: CodeSource): ErrorCode => ({ code: value, source });

/** Every error code the fake uses, by meaning. */
export const CODES = {
  /** Missing, unknown or insufficient credentials (401 and 403). */
  authentication: code(10000, "documented"),
  /** The account in the path is not one the token may use (403). */
  accountForbidden: code(9109, "observed"),
  /** No route for the path (404): "Could not route to ..., perhaps your object identifier is invalid?". */
  noRoute: code(7003, "observed"),
  /** A known path with a method it does not take (405). */
  methodNotAllowed: code(7001, "observed"),
  /** A JSON body that does not parse (400). */
  malformedJson: code(6007, "observed"),
  /** Answer of a scripted 429 when the script gives no errors. */
  rateLimited: code(971, "observed"),
  /** Answer of a scripted 5xx when the script gives no errors. */
  internal: code(10002, "documented"),
  /** Answer of a scripted 4xx other than 429 when the script gives no errors. */
  scripted: code(1000, "chosen"),

  workerNotFound: code(10007, "documented"),
  workerInvalid: code(10021, "documented"),
  /** A kv_namespace binding names a namespace that does not exist. */
  workerKvBindingInvalid: code(10041, "observed"),
  /** An r2_bucket binding names a bucket that does not exist. */
  workerR2BindingInvalid: code(10085, "observed"),
  /** A service binding names a Worker that does not exist. */
  workerServiceBindingInvalid: code(10143, "chosen"),

  d1AlreadyExists: code(7502, "observed"),
  d1NotFound: code(7404, "chosen"),
  d1Invalid: code(7400, "chosen"),
  /** An SQL statement failed; the message is SQLite's. */
  d1QueryError: code(7500, "observed"),

  kvKeyNotFound: code(10009, "observed"),
  kvNamespaceNotFound: code(10013, "observed"),
  kvTitleExists: code(10014, "observed"),
  kvMissingTitle: code(10019, "observed"),
  kvInvalid: code(10001, "chosen"),

  r2InvalidBucketName: code(10005, "documented"),
  r2NoSuchBucket: code(10006, "documented"),
  /** "The bucket you tried to create already exists, and you own it." The reference lists 10073 for a name taken by another account. */
  r2BucketExists: code(10004, "observed"),
  r2BucketNotEmpty: code(10008, "documented"),
  r2NoSuchKey: code(10007, "chosen"),
  r2PreconditionFailed: code(10031, "chosen"),
  r2Invalid: code(10040, "chosen"),

  queueNameTaken: code(11009, "observed"),
  queueNotFound: code(11000, "chosen"),
  queueInvalid: code(11003, "chosen"),
  queueHasConsumer: code(11004, "chosen"),
  queueConsumerNotFound: code(11005, "chosen"),
} as const satisfies Record<string, ErrorCode>;
