/**
 * Routes of the fake: a method, a path pattern, the permission it needs, how its body is read,
 * and a handler. Patterns match raw (still percent-encoded) path segments, so an encoded `/`
 * in a KV key stays inside its segment; `:name` captures one segment, decoded; a final `*name`
 * captures the rest of the path, decoded (R2 object keys).
 */
import type { Permission } from "./auth.test-fixture.js";
import type { RouteResponse } from "./envelope.test-fixture.js";
import type { FakeState, VisibilityKind } from "./fake-state.test-fixture.js";

/** How a route reads its request body before its handler runs. */
export type BodyKind = "none" | "json" | "multipart" | "raw";

/** What a handler gets. */
export interface RouteContext {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: Headers;
  /** The parsed JSON body of a "json" route (undefined when empty). */
  readonly json: unknown;
  /** The parsed parts of a "multipart" route. */
  readonly form: FormData | undefined;
  /** The body's bytes (every route). */
  readonly body: Uint8Array;
  readonly state: FakeState;
  /** The account of an account-scoped route (`:account_id`); "" for others. */
  readonly accountId: string;
  /** The accounts the request's token may use; undefined for all. */
  readonly grantedAccounts: readonly string[] | undefined;
  /** Whether a resource just created is still hidden from GETs (see `notVisibleAfterCreate`). */
  isHidden(kind: VisibilityKind, key: string): boolean;
  /** Records that a resource was created now (starts its hidden window). */
  created(kind: VisibilityKind, key: string): void;
}

/** One route. */
export interface Route {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** E.g. "/accounts/:account_id/d1/database/:database_id". */
  readonly pattern: string;
  /** The permission needed; null for none. */
  readonly permission: Permission | null;
  readonly body: BodyKind;
  handle(context: RouteContext): RouteResponse | Promise<RouteResponse>;
}

/** The outcome of matching a path against the routes. */
export type RouteMatch =
  | { readonly kind: "found"; readonly route: Route; readonly params: Record<string, string> }
  | { readonly kind: "wrong-method" }
  | { readonly kind: "none" };

/** The route for `method` and `path` (the part after `/client/v4`, still encoded). */
export function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch {
  const segments = path.split("/").filter(Boolean);
  let pathKnown = false;
  for (const route of routes) {
    const params = matchPattern(route.pattern, segments);
    if (params === undefined) continue;
    if (route.method === method) return { kind: "found", route, params };
    pathKnown = true;
  }
  return pathKnown ? { kind: "wrong-method" } : { kind: "none" };
}

function matchPattern(pattern: string, segments: readonly string[]): Record<string, string> | undefined {
  const parts = pattern.split("/").filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.startsWith("*")) {
      if (i >= segments.length) return undefined;
      const rest = decode(segments.slice(i).join("/"));
      if (rest === undefined) return undefined;
      params[part.slice(1)] = rest;
      return params;
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    if (part.startsWith(":")) {
      const value = decode(segment);
      if (value === undefined || value === "") return undefined;
      params[part.slice(1)] = value;
    } else if (part !== segment) {
      return undefined;
    }
  }
  return parts.length === segments.length ? params : undefined;
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
