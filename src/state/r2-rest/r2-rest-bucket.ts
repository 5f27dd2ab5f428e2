/**
 * An {@link ObjectBucket} for R2 through Cloudflare's REST API: GET with its ETag, PUT
 * with `If-None-Match: *` or `If-Match: <etag>`, DELETE, and listings with a
 * delimiter. Every failure becomes a `StateStoreError` naming the object
 * (`r2://bucket/key`) and what was being done; the API client's message it
 * quotes names the request and how to fix the credentials, never the token.
 *
 * @module
 */
import { AlchemyError, StateStoreError } from "../../core/errors.js";
import { CloudflareApiError } from "../../providers/cloudflare/remote/api-error.js";
import { parseEnvelope } from "../../providers/cloudflare/remote/envelope.js";
import { unquoteEtag as unquote, type BucketSession, type ListingPage, type ObjectBucket, type PutCondition, type StoredObject, type WriteOptions } from "../objects/object-bucket.js";
import type { R2Connection } from "./r2-connection.js";

/** R2's error codes the store tells apart (developers.cloudflare.com/r2/api/error-codes). */
const NO_SUCH_BUCKET = 10006;

/**
 * Bucket `name` of an account, through the REST API.
 *
 * @example
 * const bucket = new R2RestBucket(connection, "my-state", () => connection.api.accountId());
 * const lock = await bucket.get("app/dev/~lock.json", "read the lock of stage dev");
 */
export class R2RestBucket implements ObjectBucket {
  constructor(
    readonly connection: R2Connection,
    readonly name: string,
    readonly accountId: () => Promise<string>,
  ) {}

  get endpoint(): string {
    return this.connection.api.credentials.baseUrl;
  }

  get session(): BucketSession {
    return this.connection.session;
  }

  location(key: string): string {
    return `r2://${this.name}/${key}`;
  }

  deleteCommand(key: string): string {
    return `wrangler r2 object delete ${this.name}/${key}`;
  }

  async identity(): Promise<string> {
    return `r2-rest\u0000${await this.accountId()}\u0000${this.name}`;
  }

  /** The object at `key`, or `undefined` when there is none. */
  async get(key: string, doing: string, options: { urgent?: boolean } = {}): Promise<StoredObject | undefined> {
    try {
      const { result, headers } = await this.connection.send<string>("GET", await this.#objectPath(key), { raw: "text" }, undefined, options.urgent);
      const etag = unquote(headers?.get("etag"));
      if (etag === undefined) {
        throw new StateStoreError(
          `Could not ${doing} at ${this.location(key)}: the endpoint ${this.connection.api.credentials.baseUrl} answered without an ETag header, which the R2 state store needs to change objects conditionally.`,
          this.location(key),
        );
      }
      return { text: result, etag };
    } catch (error) {
      if (error instanceof CloudflareApiError && error.status === 404 && !error.hasError(NO_SUCH_BUCKET)) return undefined;
      throw this.#failure(error, doing, key);
    }
  }

  /**
   * Writes `text` at `key`; with a `condition`, only if it holds. Resolves the
   * new object's ETag (`undefined` if the endpoint did not say), or
   * `"precondition-failed"` when R2 answered 412 to a conditional PUT.
   */
  async put(key: string, text: string, options: WriteOptions & { condition?: PutCondition }): Promise<{ etag: string | undefined } | "precondition-failed"> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.condition !== undefined && "ifNoneMatch" in options.condition) headers["if-none-match"] = "*";
    if (options.condition !== undefined && "ifMatch" in options.condition) headers["if-match"] = `"${options.condition.ifMatch}"`;
    try {
      const answer = await this.connection.send<{ etag?: unknown } | null>("PUT", await this.#objectPath(key), { body: text, headers }, options.guard, options.urgent);
      const etag = typeof answer.result?.etag === "string" ? unquote(answer.result.etag) : unquote(answer.headers?.get("etag"));
      return { etag };
    } catch (error) {
      if (options.condition !== undefined && error instanceof CloudflareApiError && error.status === 412) return "precondition-failed";
      throw this.#failure(error, options.doing, key);
    }
  }

  /** Removes the object at `key`; a no-op when there is none. */
  async delete(key: string, options: WriteOptions): Promise<void> {
    try {
      await this.connection.send("DELETE", await this.#objectPath(key), {}, options.guard, options.urgent);
    } catch (error) {
      if (error instanceof CloudflareApiError && error.status === 404 && !error.hasError(NO_SUCH_BUCKET)) return;
      throw this.#failure(error, options.doing, key);
    }
  }

  /**
   * The pages of the listing of the keys starting with `prefix`; with
   * `delimiter: "/"`, keys below the next `/` are rolled up into `prefixes`.
   */
  async *list(prefix: string, options: { delimiter?: "/"; doing: string }): AsyncGenerator<ListingPage> {
    const path = `${await this.#bucketPath(prefix, options.doing)}/objects`;
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (;;) {
      let text: string;
      try {
        ({ result: text } = await this.connection.send<string>("GET", path, { raw: "text", query: { prefix, delimiter: options.delimiter, cursor, per_page: 1000 } }));
      } catch (error) {
        throw this.#failure(error, options.doing, prefix);
      }
      const page = this.#page(text, options.doing, prefix);
      yield page;
      if (page.cursor === undefined) return;
      if (seen.has(page.cursor)) {
        throw new StateStoreError(`Could not ${options.doing} at ${this.location(prefix)}: the listing returned the same cursor twice.`, this.location(prefix));
      }
      seen.add(page.cursor);
      cursor = page.cursor;
    }
  }

  #page(text: string, doing: string, prefix: string): ListingPage & { cursor?: string } {
    const envelope = parseEnvelope(text);
    const info = (envelope?.result_info ?? {}) as { cursor?: unknown; is_truncated?: unknown; delimited?: unknown };
    if (envelope === undefined || !envelope.success || !Array.isArray(envelope.result)) {
      throw new StateStoreError(`Could not ${doing} at ${this.location(prefix)}: the listing's answer is not a list of objects (${JSON.stringify(text.slice(0, 200))}).`, this.location(prefix));
    }
    const objects = (envelope.result as { key?: unknown; last_modified?: unknown; etag?: unknown }[])
      .filter((o) => typeof o?.key === "string")
      .map((o) => ({
        key: o.key as string,
        lastModified: typeof o.last_modified === "string" ? o.last_modified : undefined,
        etag: typeof o.etag === "string" ? unquote(o.etag) : undefined,
      }));
    const prefixes = Array.isArray(info.delimited) ? info.delimited.filter((p): p is string => typeof p === "string") : [];
    const more = typeof info.cursor === "string" && info.cursor !== "" && info.is_truncated !== false;
    return { objects, prefixes, cursor: more ? (info.cursor as string) : undefined };
  }

  async #bucketPath(key: string, doing: string): Promise<string> {
    let account: string;
    try {
      account = await this.accountId();
    } catch (error) {
      throw this.#failure(error, doing, key);
    }
    return `/accounts/${encodeURIComponent(account)}/r2/buckets/${encodeURIComponent(this.name)}`;
  }

  async #objectPath(key: string): Promise<string> {
    return `${await this.#bucketPath(key, "find the account")}/objects/${key.split("/").map(encodeURIComponent).join("/")}`;
  }

  /** The error to throw for `error`, met while doing `doing` at `key`. */
  #failure(error: unknown, doing: string, key: string): Error {
    const location = this.location(key);
    if (error instanceof CloudflareApiError) {
      const hint = error.status === 404 && error.hasError(NO_SUCH_BUCKET)
        ? ` Bucket "${this.name}" does not exist in this account: create it (wrangler r2 bucket create ${this.name}), or name an existing bucket in the store's options.`
        : "";
      return new StateStoreError(`Could not ${doing} at ${location}: ${error.message}${hint}`, location, { cause: error });
    }
    // Our own errors (a lost lock, a missing profile, a refused probe) already say what to do.
    if (error instanceof AlchemyError) return error;
    return new StateStoreError(`Could not ${doing} at ${location}: ${error instanceof Error ? error.message : String(error)}`, location, { cause: error });
  }
}
