/**
 * `alchemy.secret(value)`: a value that never prints itself. It shows as
 * `[secret]` in strings and JSON and as `Secret([redacted])` in logs; only
 * `unwrap()` gives the value back. The engine stores secrets encrypted.
 *
 * @module
 */
import { inspect } from "node:util";

const SECRET = Symbol.for("alchemy.secret");

/**
 * A sensitive string.
 *
 * @example
 * const token = alchemy.secret(process.env.API_TOKEN);
 * await Worker("api", { env: { TOKEN: token } });   // stored encrypted
 * // in a handler: fetch(url, { headers: { authorization: props.env.TOKEN.unwrap() } })
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    if (typeof value !== "string") {
      throw new TypeError(
        `alchemy.secret() takes a string, got ${value === undefined ? "undefined (is the environment variable set?)" : typeof value}.`,
      );
    }
    this.#value = value;
    Object.defineProperty(this, SECRET, { value: true });
  }

  /** The value itself: for providers, at the moment they hand it to an API. */
  unwrap(): string {
    return this.#value;
  }

  toString(): string {
    return "[secret]";
  }

  toJSON(): string {
    return "[secret]";
  }

  [inspect.custom](): string {
    return "Secret([redacted])";
  }
}

/** True when `value` is a {@link Secret} (of any copy of this package). */
export function isSecret(value: unknown): value is Secret {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SECRET] === true;
}

/**
 * A deep copy of a JSON value (as read from state, or checked by
 * `toStorable`) that keeps {@link Secret} instances as they are and an own
 * `__proto__` key as data.
 *
 * @example
 * const copy = cloneJson({ token: secret("x"), tags: ["a"] }); // copy.token is the same Secret
 */
export function cloneJson(value: unknown): unknown {
  if (value === null || typeof value !== "object" || isSecret(value)) return value;
  if (Array.isArray(value)) return value.map((item) => cloneJson(item) ?? null);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const copy = cloneJson(item);
    if (copy === undefined) continue;
    if (key === "__proto__") Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[key] = copy;
  }
  return out;
}

/** True when `value` holds a {@link Secret} anywhere inside. */
export function containsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (value === null || typeof value !== "object") return false;
  return (Array.isArray(value) ? value : Object.values(value)).some(containsSecret);
}
