/**
 * The JSON envelope of every Cloudflare REST API v4 answer:
 * `{ success, errors: [{ code, message }], messages, result, result_info? }`.
 * `success: false` is a failure whatever the HTTP status.
 *
 * @module
 */
import type { CloudflareErrorItem } from "./api-error.js";

/** Paging details of a list answer: page numbers, or a cursor (KV keys, R2). */
export interface ResultInfo {
  page?: number;
  per_page?: number;
  total_pages?: number;
  count?: number;
  total_count?: number;
  /** Next page's cursor; empty or absent on the last page. */
  cursor?: string;
}

/** A parsed envelope. */
export interface Envelope<T = unknown> {
  success: boolean;
  errors: CloudflareErrorItem[];
  messages: unknown[];
  result: T;
  result_info?: ResultInfo;
}

/**
 * Parses `text` as an envelope; undefined when it is not JSON or not an
 * object. A JSON object without `success` counts as a success whose result is
 * the whole object (a few endpoints answer bare JSON); an empty body as a
 * success with result `null` (some deletions answer 204).
 *
 * @example
 * parseEnvelope('{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}')?.success; // false
 */
export function parseEnvelope(text: string): Envelope | undefined {
  if (text.trim() === "") return { success: true, errors: [], messages: [], result: null };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.success !== "boolean") return { success: true, errors: [], messages: [], result: record };
  return {
    success: record.success,
    errors: Array.isArray(record.errors) ? record.errors.map(errorItem) : [],
    messages: Array.isArray(record.messages) ? record.messages : [],
    result: record.result === undefined ? null : record.result,
    result_info: typeof record.result_info === "object" && record.result_info !== null ? (record.result_info as ResultInfo) : undefined,
  };
}

function errorItem(value: unknown): CloudflareErrorItem {
  if (typeof value === "object" && value !== null) {
    const { code, message } = value as { code?: unknown; message?: unknown };
    return { code: typeof code === "number" ? code : Number(code) || 0, message: typeof message === "string" ? message : JSON.stringify(value) };
  }
  return { code: 0, message: String(value) };
}
