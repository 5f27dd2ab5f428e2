/**
 * Which profile settings are secret, and how they are shown: `alchemy profile
 * show` prints every setting through {@link redactSetting}, so a token never
 * reaches a terminal, a log or a CI transcript.
 *
 * A setting is secret when its key names a secret (`token`, `secret`,
 * `password`, `key`, `credential`, `auth`, `private`, ... anywhere in the
 * key, any case, `_` and `-` ignored) unless the key ends in `Id` or `Name`
 * (`accessKeyId`, `keyName` identify a secret, they are not one). The value of
 * any other setting is shown, except a password inside a URL
 * (`postgres://user:****@host/db`) and URL query parameters whose names are
 * secret (`?sslpassword=****`).
 *
 * @module
 */
import type { SettingValue } from "./profile-file.js";

const SECRET_WORDS = /token|secret|pass(word|wd|phrase)|pwd|key|credential|auth|private|cookie|session|signature/;
const IDENTIFYING_SUFFIX = /(id|ids|name)$/;
const MASK = "****";

/**
 * Whether the setting `key` holds a secret.
 *
 * @example
 * isSecretKey("apiToken"); // true
 * isSecretKey("secret_access_key"); // true
 * isSecretKey("accessKeyId"); // false
 * isSecretKey("accountId"); // false
 */
export function isSecretKey(key: string): boolean {
  const word = key.toLowerCase().replace(/[_-]/g, "");
  return SECRET_WORDS.test(word) && !IDENTIFYING_SUFFIX.test(word);
}

/**
 * A secret value as shown: `****` and its length, never any of its characters.
 *
 * @example
 * maskSecret("abc"); // "****(3 chars)"
 */
export function maskSecret(value: SettingValue): string {
  const length = String(value).length;
  return `${MASK}(${length} char${length === 1 ? "" : "s"})`;
}

/**
 * A URL with its password and its secret query parameters masked; any other
 * text unchanged. Works on strings that are not valid WHATWG URLs too
 * (`postgres://u:p/ss@host/db`), erring on the side of masking more. A
 * URL whose user name alone is a token (`https://ghp_...@github.com`) is not
 * recognised: keep such a URL under a secret key (`tokenUrl`).
 *
 * @example
 * redactUrl("postgres://app:hunter2@db:5432/shop?sslmode=require"); // "postgres://app:****@db:5432/shop?sslmode=require"
 * redactUrl("https://api.example.com/?token=abc"); // "https://api.example.com/?token=****"
 */
export function redactUrl(text: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text);
  if (!scheme) return text;
  const start = scheme[0].length;
  let end = text.slice(start).search(/[/?#]/);
  end = end === -1 ? text.length : start + end;
  let at = text.lastIndexOf("@", end - 1);
  if (at < start) {
    // Not a valid URL, but a password holding an unescaped '/', '?' or '#'
    // ("postgres://u:p/ss@host/db") must not show either.
    const authority = text.slice(start, end);
    const colon = authority.indexOf(":");
    const port = /^\d*$/.test(authority.slice(colon + 1));
    at = colon !== -1 && !port && !authority.startsWith("[") ? text.indexOf("@", end) : -1;
  }
  let out = text;
  if (at !== -1) {
    const userinfo = text.slice(start, at);
    const colon = userinfo.indexOf(":");
    if (colon !== -1 && colon < userinfo.length - 1) {
      out = `${text.slice(0, start)}${userinfo.slice(0, colon)}:${MASK}${text.slice(at)}`;
    }
  }
  return out.replace(/([?&;])([^=&#;]+)=([^&#;]*)/g, (match, sep: string, name: string, value: string) =>
    value !== "" && isSecretKey(decodeSafely(name)) ? `${sep}${name}=${MASK}` : match,
  );
}

/**
 * A setting's value as `alchemy profile show` prints it: masked when the key
 * is secret, with URL passwords masked otherwise.
 *
 * @example
 * redactSetting("apiToken", "abc"); // "****(3 chars)"
 * redactSetting("url", "postgres://u:p@h/db"); // "postgres://u:****@h/db"
 * redactSetting("accountId", "123"); // "123"
 */
export function redactSetting(key: string, value: SettingValue): string {
  if (isSecretKey(key)) return maskSecret(value);
  return typeof value === "string" ? redactUrl(value) : String(value);
}

/**
 * Every setting of a provider, redacted with {@link redactSetting}.
 *
 * @example
 * redactSettings({ accountId: "123", apiToken: "abc" }); // { accountId: "123", apiToken: "****(3 chars)" }
 */
export function redactSettings(settings: Record<string, SettingValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) out[key] = redactSetting(key, value);
  return out;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
