/**
 * Credentials and permissions of the fake.
 *
 * A request carries `Authorization: Bearer <token>` or the legacy pair `X-Auth-Email` +
 * `X-Auth-Key`; either secret must be a key of the fake's `tokens`, and the request gets that
 * entry's permissions (a real global API key has every permission of its user; give that entry
 * {@link ALL_PERMISSIONS} to model one).
 *
 * Permissions, by route (a "... Write" permission also grants the matching "... Read"):
 * | routes | read | write |
 * | --- | --- | --- |
 * | `GET /accounts` | Account Settings Read | |
 * | `/workers/...` (scripts, settings, subdomains) | Workers Scripts Read | Workers Scripts Write |
 * | `/d1/...` (`POST .../query` needs Write, even for a SELECT) | D1 Read | D1 Write |
 * | `/storage/kv/...` | Workers KV Storage Read | Workers KV Storage Write |
 * | `/r2/...` | Workers R2 Storage Read | Workers R2 Storage Write |
 * | `/queues/...` | Queues Read | Queues Write |
 *
 * Cloudflare's 403 says only "Authentication error" (code 10000); the fake adds the missing
 * permission's name to the message so a failing test says what to grant. Clients must not
 * parse it.
 */
import { CODES } from "./error-codes.test-fixture.js";
import { fail, type RouteResponse } from "./envelope.test-fixture.js";

/** Every permission a route of the fake may need. */
export const ALL_PERMISSIONS = [
  "Account Settings Read",
  "Workers Scripts Read",
  "Workers Scripts Write",
  "D1 Read",
  "D1 Write",
  "Workers KV Storage Read",
  "Workers KV Storage Write",
  "Workers R2 Storage Read",
  "Workers R2 Storage Write",
  "Queues Read",
  "Queues Write",
] as const;

/** A permission a route may need. */
export type Permission = (typeof ALL_PERMISSIONS)[number];

/** What a token (or a legacy API key) may do. */
export interface TokenGrant {
  /** Permission names, e.g. "D1 Write". */
  readonly permissions: readonly string[];
  /**
   * Ids of the accounts the token may use.
   * @default every account of the fake
   */
  readonly accounts?: readonly string[];
}

/** The token the fake accepts when given no `tokens`: every permission, every account. */
export const DEFAULT_TOKEN = "test-token";

/** The credentials of a request, once checked. */
export type Credentials = { readonly ok: true; readonly grant: TokenGrant } | { readonly ok: false; readonly response: RouteResponse };

/** Finds the grant of the request's credentials, or answers 401. */
export function authenticate(headers: Headers, tokens: ReadonlyMap<string, TokenGrant>): Credentials {
  const authorization = headers.get("authorization");
  const legacyKey = headers.get("x-auth-key");
  let secret: string | undefined;
  if (authorization !== null) {
    const match = /^Bearer (\S+)$/.exec(authorization.trim());
    secret = match?.[1];
  } else if (legacyKey !== null && headers.get("x-auth-email")?.includes("@")) {
    secret = legacyKey;
  }
  const grant = secret === undefined ? undefined : tokens.get(secret);
  if (grant === undefined) return { ok: false, response: fail(401, CODES.authentication, "Authentication error") };
  return { ok: true, grant };
}

/** Whether `grant` holds `needed`, a "... Write" granting the matching "... Read". */
export function holds(grant: TokenGrant, needed: Permission): boolean {
  if (grant.permissions.includes(needed)) return true;
  return needed.endsWith(" Read") && grant.permissions.includes(needed.replace(/ Read$/, " Write"));
}

/** A 403 naming the permission the token lacks. */
export function forbidden(needed: Permission): RouteResponse {
  return fail(403, CODES.authentication, `Authentication error: the API token lacks the permission "${needed}"`);
}
