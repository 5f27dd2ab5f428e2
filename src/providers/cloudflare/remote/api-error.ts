/**
 * `CloudflareApiError`, the one error the Cloudflare API client throws for a
 * request that did not succeed, and the messages it carries. Every message
 * names the request (`PUT /accounts/abc/workers/scripts/api`, with the
 * account id) and how to fix it; none contains the API token: text that comes
 * from the server passes through `credentials.redact` first.
 *
 * @module
 */
import { AlchemyError } from "../../../core/errors.js";
import type { CloudflareCredentials } from "./credentials.js";
import { parseEnvelope } from "./envelope.js";
import { permissionFor } from "./permission-hint.js";

/** One entry of the envelope's `errors`. */
export interface CloudflareErrorItem {
  code: number;
  message: string;
}

/** What a {@link CloudflareApiError} is about. */
export interface CloudflareApiErrorDetails {
  /** HTTP status of the last response; 0 when no response came (network failure). */
  status: number;
  /** The envelope's `errors`, as sent (redacted). */
  errors: CloudflareErrorItem[];
  method: string;
  /** Path below the base URL, with the account id, e.g. `/accounts/abc/d1/database`. */
  path: string;
  /** Attempts made, retries included. More than 1 on a POST means an earlier attempt may have done its work. */
  attempts: number;
}

/**
 * A Cloudflare API request failed: refused, rate limited past the retries,
 * not found, or answered with `success: false`.
 *
 * @example
 * try {
 *   await api.request("POST", `/accounts/${id}/queues`, { json: { queue_name: "jobs" } });
 * } catch (error) {
 *   if (error instanceof CloudflareApiError && error.status === 409) adoptExisting();
 *   else throw error;
 * }
 */
export class CloudflareApiError extends AlchemyError {
  override name = "CloudflareApiError";
  readonly status: number;
  /** The envelope's error codes, e.g. `[10000]`; empty when it had none. */
  readonly codes: number[];
  readonly errors: CloudflareErrorItem[];
  readonly method: string;
  readonly path: string;
  readonly attempts: number;

  constructor(message: string, details: CloudflareApiErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.status = details.status;
    this.errors = details.errors;
    this.codes = details.errors.map((e) => e.code);
    this.method = details.method;
    this.path = details.path;
    this.attempts = details.attempts;
  }

  /** Whether Cloudflare answered 404 (the thing is not there). */
  get notFound(): boolean {
    return this.status === 404;
  }

  /**
   * Whether the envelope carries error `code`, or an error message containing `text`.
   *
   * @example
   * if (error.hasError(10014)) ... // KV namespace title already taken
   */
  hasError(codeOrText: number | string): boolean {
    return this.errors.some((e) => (typeof codeOrText === "number" ? e.code === codeOrText : e.message.toLowerCase().includes(codeOrText.toLowerCase())));
  }
}

/** Builds the errors of one request; `credentials` name the token's holder and redact the server's text. */
export function apiError(credentials: CloudflareCredentials, details: CloudflareApiErrorDetails, extra: { body?: string; cause?: unknown } = {}): CloudflareApiError {
  const errors = details.errors.map((e) => ({ code: e.code, message: credentials.redact(e.message) }));
  const safe = { ...details, errors };
  return new CloudflareApiError(messageOf(credentials, safe, extra.body === undefined ? undefined : credentials.redact(extra.body)), safe, extra.cause === undefined ? undefined : { cause: extra.cause });
}

/** The error after the last of the allowed 429s (`refusals` of them), or the first of a request that cannot be sent again. */
export function rateLimitError(credentials: CloudflareCredentials, details: CloudflareApiErrorDetails, refusals: number, waitedMs: number): CloudflareApiError {
  const request = `${details.method} ${details.path}`;
  return new CloudflareApiError(
    `Cloudflare kept rate limiting ${request} (429 on ${refusals} ${refusals === 1 ? "attempt" : "attempts"}, ${Math.round(waitedMs / 1000)} s of waiting): ` +
      `${credentials.describeHolder()} is over Cloudflare's limit of 1,200 requests per 5 minutes, perhaps because another run or tool uses the same token. ` +
      `Wait a few minutes and run again, or give this run a token of its own.`,
    details,
  );
}

/** The error after the last network failure. */
export function networkError(credentials: CloudflareCredentials, details: CloudflareApiErrorDetails, code: string, cause: unknown): CloudflareApiError {
  return new CloudflareApiError(
    `Could not reach Cloudflare at ${credentials.baseUrl} for ${details.method} ${details.path} after ${details.attempts} attempts (${credentials.redact(code)}). ` +
      `Check the network connection, and the base URL (${credentials.settingFix("baseUrl")}) if it is set.`,
    details,
    { cause },
  );
}

function messageOf(credentials: CloudflareCredentials, details: CloudflareApiErrorDetails, body: string | undefined): string {
  const request = `${details.method} ${details.path}`;
  const what = `${details.status}${details.errors.length > 0 ? `, ${details.errors.map((e) => `code ${e.code}: ${e.message}`).join("; ")}` : ""}`;
  const raw = body !== undefined && details.errors.length === 0 && body.trim() !== "" ? `: ${JSON.stringify(snippet(body))}` : "";
  if (details.status === 401 || details.status === 403) return refusedMessage(credentials, details, `Cloudflare refused ${request} (${what})`);
  if (details.status === 404) return `Cloudflare has no ${request} (${what}): it does not exist, or not in this account.`;
  if (details.status >= 300 && details.status < 400) {
    return `Cloudflare answered ${request} with a redirect (${details.status}), which the client does not follow so that the credentials go nowhere but ${credentials.baseUrl}. Check the base URL.`;
  }
  if (details.status >= 500 || details.status === 408) {
    return `Cloudflare failed ${request} on ${details.attempts} attempts (${what})${raw}. Cloudflare may be having trouble (https://www.cloudflarestatus.com); run again later.`;
  }
  if (details.status >= 200 && details.status < 300 && body !== undefined) {
    if (parseEnvelope(body) !== undefined) return `Cloudflare answered ${request} (${details.status}) with success: false and no error${raw}.`;
    return `Cloudflare answered ${request} (${details.status}) with something that is not its JSON envelope${raw}. Check that the base URL ${credentials.baseUrl} is the Cloudflare API.`;
  }
  return `Cloudflare rejected ${request} (${what})${raw}.`;
}

function refusedMessage(credentials: CloudflareCredentials, details: CloudflareApiErrorDetails, head: string): string {
  const permission = permissionFor(details.method, details.path);
  const account = /^\/accounts\/([^/?]+)/.exec(details.path)?.[1];
  const other = credentials.source === "profile" ? "or use another profile" : "or use another token";
  const needs = permission ? `the "${permission}" permission` : "the permission this request needs";
  if (details.status === 401) {
    return `${head}: ${credentials.describeHolder()} was not accepted: it may be expired, revoked or mistyped, or lack ${needs}. ` + `Set a valid token with \`${credentials.fixCommand()}\` (${other}).`;
  }
  return (
    `${head}: ${credentials.describeHolder()} lacks a permission for it${account ? `, or is not valid for account ${account}` : ""}; ` +
    `give the token ${needs}${account ? ` on that account` : ""} (${other}).`
  );
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}
