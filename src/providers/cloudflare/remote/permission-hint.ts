/**
 * Which API token permission a Cloudflare route needs, so that a 401 or 403
 * can say what to add to the token instead of only "Authentication error".
 *
 * @module
 */

const ROUTES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\/accounts\/[^/]+\/workers\//, "Workers Scripts"],
  [/^\/accounts\/[^/]+\/d1(\/|$)/, "D1"],
  [/^\/accounts\/[^/]+\/storage\/kv(\/|$)/, "Workers KV Storage"],
  [/^\/accounts\/[^/]+\/r2(\/|$)/, "Workers R2 Storage"],
  [/^\/accounts\/[^/]+\/queues(\/|$)/, "Queues"],
  [/^\/accounts\/?$/, "Account Settings"],
];

/**
 * The permission `method path` needs, e.g. `Workers Scripts Write`; `Read`
 * for GET and HEAD. Undefined for a route this table does not know.
 *
 * @example
 * permissionFor("PUT", "/accounts/abc/workers/scripts/api"); // "Workers Scripts Write"
 * permissionFor("GET", "/accounts/abc/d1/database"); // "D1 Read"
 */
export function permissionFor(method: string, path: string): string | undefined {
  const pathname = path.split("?")[0];
  const route = ROUTES.find(([pattern]) => pattern.test(pathname));
  if (!route) return undefined;
  const access = method.toUpperCase() === "GET" || method.toUpperCase() === "HEAD" ? "Read" : "Write";
  return `${route[1]} ${access}`;
}
