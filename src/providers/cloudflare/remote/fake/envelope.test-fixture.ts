/**
 * What a route of the fake answers: Cloudflare's JSON envelope (`{ success, errors, messages,
 * result, result_info? }`) or a raw body (KV values, R2 objects), and the two ways list routes
 * page (page numbers, opaque cursors).
 */
import type { ErrorCode } from "./error-codes.test-fixture.js";

/** One entry of an envelope's `errors`. */
export interface ApiError {
  readonly code: number;
  readonly message: string;
}

/** `result_info` of a list paged by number. */
export interface PageInfo {
  readonly page: number;
  readonly per_page: number;
  readonly count: number;
  readonly total_count: number;
  readonly total_pages: number;
}

/** Cloudflare's response envelope. */
export interface Envelope {
  readonly success: boolean;
  readonly errors: readonly ApiError[];
  readonly messages: readonly ApiError[];
  readonly result: unknown;
  readonly result_info?: unknown;
}

/** A route's answer: an envelope, or raw bytes with their headers. */
export type RouteResponse =
  | { readonly kind: "envelope"; readonly status: number; readonly envelope: Envelope; readonly headers?: Record<string, string> }
  | { readonly kind: "raw"; readonly status: number; readonly body: Uint8Array; readonly headers: Record<string, string> };

/** A success envelope. */
export function ok(result: unknown, resultInfo?: unknown, status = 200): RouteResponse {
  const envelope: Envelope = { success: true, errors: [], messages: [], result };
  return { kind: "envelope", status, envelope: resultInfo === undefined ? envelope : { ...envelope, result_info: resultInfo } };
}

/** A failure envelope with one error. */
export function fail(status: number, error: ErrorCode, message: string, headers?: Record<string, string>): RouteResponse {
  return failWith(status, [{ code: error.code, message }], headers);
}

/** A failure envelope with the given errors. */
export function failWith(status: number, errors: readonly ApiError[], headers?: Record<string, string>): RouteResponse {
  return { kind: "envelope", status, envelope: { success: false, errors, messages: [], result: null }, headers };
}

/** Raw bytes, for the routes that answer without an envelope. */
export function raw(body: Uint8Array, headers: Record<string, string>, status = 200): RouteResponse {
  return { kind: "raw", status, body, headers };
}

/** Bounds of a list route's page size. */
export interface PageLimits {
  readonly defaultPerPage: number;
  readonly minPerPage?: number;
  readonly maxPerPage: number;
}

/**
 * One page of `items` by `page` (from 1) and `per_page` from the query. Sizes outside the
 * limits are clamped and junk is read as the default, where the real API may answer 400.
 */
export function paginate<T>(items: readonly T[], query: URLSearchParams, limits: PageLimits): { items: T[]; info: PageInfo } {
  const perPage = clamp(intParam(query, "per_page") ?? limits.defaultPerPage, limits.minPerPage ?? 1, limits.maxPerPage);
  const page = Math.max(1, intParam(query, "page") ?? 1);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const info: PageInfo = {
    page,
    per_page: perPage,
    count: slice.length,
    total_count: items.length,
    total_pages: Math.ceil(items.length / perPage),
  };
  return { items: slice, info };
}

/**
 * One page of `items` from an opaque cursor (an offset, base64url-encoded; empty for the
 * first page). `next` is "" when nothing follows, as Cloudflare's cursor lists do.
 */
export function cursorPage<T>(items: readonly T[], cursor: string | null, limit: number): { items: T[]; next: string } {
  const start = cursor ? Number(Buffer.from(cursor, "base64url").toString("utf8")) || 0 : 0;
  const slice = items.slice(start, start + limit);
  const end = start + slice.length;
  return { items: slice, next: end < items.length ? Buffer.from(String(end), "utf8").toString("base64url") : "" };
}

/** A whole-number query parameter, or undefined when absent or not a number. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || !/^-?\d+$/.test(value)) return undefined;
  return Number(value);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
