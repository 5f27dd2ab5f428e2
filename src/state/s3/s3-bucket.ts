/**
 * An {@link ObjectBucket} through the S3 API (`@aws-sdk/client-s3`, an
 * optional peer dependency loaded on first use): AWS S3, R2's S3 endpoint,
 * or any service that speaks the API.
 *
 * The SDK's own retries are off (`maxAttempts: 1`): this file retries, so
 * that the write's `guard` runs before every attempt, and so that a
 * conditional PUT answered `409 ConditionalRequestConflict` (a conflicting
 * conditional write in flight, documented by AWS) is sent again rather than
 * taken for a lost race. 5xx, 429/503 SlowDown and network failures back off
 * with jitter; other answers are final.
 *
 * @module
 */
import type { S3Client as S3ClientType } from "@aws-sdk/client-s3";
import { AlchemyError, StateStoreError } from "../../core/errors.js";
import { unquoteEtag, type BucketSession, type ListingPage, type ObjectBucket, type PutCondition, type StoredObject, type WriteOptions } from "../objects/object-bucket.js";
import type { S3Connection } from "./s3-connection.js";

/** Attempts of one request before its failure is reported. */
const ATTEMPTS = 5;
/** Backoff of the first retry; doubled each time, with jitter, at most {@link MAX_BACKOFF_MS}. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 3_000;

/** What the SDK throws: a service error with its HTTP status, or a network error. */
interface SdkError extends Error {
  $metadata?: { httpStatusCode?: number };
  Code?: string;
}

/**
 * Bucket `name` through `connection`.
 *
 * @example
 * const bucket = new S3Bucket(s3Connection(settings), "my-state");
 * await bucket.put("app/dev/~lock.json", text, { doing: "take the lock", condition: { ifNoneMatch: "*" } });
 */
export class S3Bucket implements ObjectBucket {
  /**
   * @param scheme how locations are written: `s3://bucket/key`, or `r2://bucket/key` for R2 through its S3 endpoint
   */
  constructor(
    readonly connection: S3Connection,
    readonly name: string,
    readonly scheme: "s3" | "r2" = "s3",
  ) {}

  get endpoint(): string {
    return this.connection.endpoint;
  }

  get session(): BucketSession {
    return this.connection.session;
  }

  location(key: string): string {
    return `${this.scheme}://${this.name}/${key}`;
  }

  deleteCommand(key: string): string {
    if (this.scheme === "r2") return `wrangler r2 object delete ${this.name}/${key}`;
    return `aws s3 rm ${this.location(key)}${this.connection.customEndpoint ? ` --endpoint-url ${this.connection.endpoint}` : ""}`;
  }

  async identity(): Promise<string> {
    return `s3\u0000${this.connection.endpoint}\u0000${this.name}`;
  }

  async get(key: string, doing: string, options: { urgent?: boolean } = {}): Promise<StoredObject | undefined> {
    const { GetObjectCommand } = this.connection.sdk;
    try {
      // The body is read inside the attempt: a connection cut while it streams is retried like any network failure.
      const { text, etag } = await this.#send(doing, key, async (client) => {
        const answer = await client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
        return { text: (await answer.Body?.transformToString("utf8")) ?? "", etag: unquoteEtag(answer.ETag) };
      }, undefined, options.urgent);
      if (etag === undefined) {
        throw new StateStoreError(`Could not ${doing} at ${this.location(key)}: ${this.endpoint} answered without an ETag, which the S3 state store needs to change objects conditionally.`, this.location(key));
      }
      return { text, etag };
    } catch (error) {
      if (codeOf(error) === "NoSuchKey") return undefined;
      throw this.#failure(error, doing, key);
    }
  }

  async put(key: string, text: string, options: WriteOptions & { condition?: PutCondition }): Promise<{ etag: string | undefined } | "precondition-failed"> {
    const { PutObjectCommand } = this.connection.sdk;
    const condition = options.condition;
    const input = {
      Bucket: this.name,
      Key: key,
      Body: text,
      ContentType: "application/json",
      ...(condition !== undefined && "ifNoneMatch" in condition && { IfNoneMatch: "*" }),
      ...(condition !== undefined && "ifMatch" in condition && { IfMatch: `"${condition.ifMatch}"` }),
    };
    try {
      const answer = await this.#send(options.doing, key, (client) => client.send(new PutObjectCommand(input)), options.guard, options.urgent);
      return { etag: unquoteEtag(answer.ETag) };
    } catch (error) {
      if (condition !== undefined && statusOf(error) === 412) return "precondition-failed";
      throw this.#failure(error, options.doing, key);
    }
  }

  async delete(key: string, options: WriteOptions): Promise<void> {
    const { DeleteObjectCommand } = this.connection.sdk;
    try {
      await this.#send(options.doing, key, (client) => client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key })), options.guard, options.urgent);
    } catch (error) {
      if (codeOf(error) === "NoSuchKey") return;
      throw this.#failure(error, options.doing, key);
    }
  }

  async *list(prefix: string, options: { delimiter?: "/"; doing: string }): AsyncGenerator<ListingPage> {
    const { ListObjectsV2Command } = this.connection.sdk;
    const seen = new Set<string>();
    let token: string | undefined;
    for (;;) {
      let answer;
      try {
        answer = await this.#send(options.doing, prefix, (client) =>
          client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, Delimiter: options.delimiter, ContinuationToken: token, MaxKeys: 1000 })),
        );
      } catch (error) {
        throw this.#failure(error, options.doing, prefix);
      }
      yield {
        objects: (answer.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ key: o.Key, lastModified: o.LastModified?.toISOString(), etag: unquoteEtag(o.ETag) }])),
        prefixes: (answer.CommonPrefixes ?? []).flatMap((p) => (p.Prefix === undefined ? [] : [p.Prefix])),
      };
      token = answer.IsTruncated ? answer.NextContinuationToken : undefined;
      if (token === undefined) return;
      if (seen.has(token)) throw new StateStoreError(`Could not ${options.doing} at ${this.location(prefix)}: the listing returned the same continuation token twice.`, this.location(prefix));
      seen.add(token);
    }
  }

  /**
   * Sends one request, retrying what may succeed on another attempt.
   * `guard` runs before each attempt, once the attempt has its slot among the
   * requests in flight (a write that waited for one is checked after the
   * wait), and again by the client right before the request goes out.
   * `urgent` requests do not wait for a slot (see {@link WriteOptions.urgent}).
   */
  async #send<T>(doing: string, key: string, request: (client: S3ClientType) => Promise<T>, guard?: () => void, urgent = false): Promise<T> {
    const client = await this.connection.client();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connection.inFlight.run(() => {
          guard?.();
          return this.connection.guarded(guard, () => request(client));
        }, urgent);
      } catch (error) {
        if (attempt >= ATTEMPTS || !retryable(error)) throw error;
        const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, backoff / 2 + Math.random() * (backoff / 2)));
      }
    }
  }

  /** The error to throw for `error`, met while doing `doing` at `key`. */
  #failure(error: unknown, doing: string, key: string): Error {
    if (error instanceof AlchemyError) return error; // a lost lock, missing credentials: they already say what to do
    const location = this.location(key);
    const code = codeOf(error);
    const status = statusOf(error);
    const said = `${code ?? (error as Error)?.name ?? "error"}${status ? ` (${status})` : ""}: ${(error as Error)?.message ?? String(error)}`;
    const hint =
      code === "NoSuchBucket"
        ? ` Bucket "${this.name}" does not exist at ${this.endpoint}: create it (aws s3 mb s3://${this.name}${this.connection.customEndpoint ? ` --endpoint-url ${this.endpoint}` : ""}), or name an existing bucket.`
        : code === "AccessDenied" || status === 403
          ? ` The credentials (${this.connection.credentialsFrom}) need s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on the bucket.`
          : code === "CredentialsProviderError"
            ? ` Give the store credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), run \`alchemy profile set <profile> aws.accessKeyId=... aws.secretAccessKey=-\`, or pass credentials in the store's options.`
          : code === "InvalidAccessKeyId" || code === "SignatureDoesNotMatch"
            ? ` The access key or its secret (${this.connection.credentialsFrom}) is wrong for ${this.endpoint}.`
            : status === undefined && !(error instanceof StateStoreError)
              ? ` Check the endpoint ${this.endpoint} and the network.`
              : "";
    return new StateStoreError(`Could not ${doing} at ${location}: ${this.connection.redact(said)}.${hint}`, location, { cause: error });
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as SdkError)?.$metadata?.httpStatusCode;
}

function codeOf(error: unknown): string | undefined {
  const e = error as SdkError;
  return e?.Code ?? (typeof e?.name === "string" && e.name !== "Error" ? e.name : undefined);
}

/** Whether another attempt may succeed: 5xx, throttling, a conflicting conditional write, a network failure. */
function retryable(error: unknown): boolean {
  if (error instanceof AlchemyError) return false;
  const status = statusOf(error);
  if (status === undefined) return !/CredentialsProviderError|Region/.test((error as Error)?.name ?? "");
  return status >= 500 || status === 429 || (status === 409 && codeOf(error) === "ConditionalRequestConflict");
}
