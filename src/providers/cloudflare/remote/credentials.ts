/**
 * `cloudflareCredentials`: how the remote Cloudflare backend finds its API
 * credentials. The `cloudflare` section of the active profile wins as a whole
 * (`apiToken` or `apiKey` + `email`, `accountId`, `baseUrl`); only when the
 * profile has no such section does the environment count
 * (`CLOUDFLARE_API_TOKEN` or `CLOUDFLARE_API_KEY` + `CLOUDFLARE_EMAIL`,
 * `CLOUDFLARE_ACCOUNT_ID`, `CLOUDFLARE_BASE_URL`). The two are never mixed key
 * by key: a token from one place and an account id or base URL from another
 * would send one account's token to another account, or to another server.
 *
 * The secret lives in a private field of {@link CloudflareCredentials}: it is
 * absent from `JSON.stringify`, `String()`, `util.inspect` and every error
 * message, and only {@link CloudflareCredentials.authHeaders} hands it out.
 *
 * @module
 */
import { inspect } from "node:util";
import { plainHttpUrl } from "../../../core/plain-http-url.js";
import { ProfileError } from "../../../core/profiles/profile-error.js";

/** Where the Cloudflare REST API v4 lives unless a profile or `CLOUDFLARE_BASE_URL` says otherwise. */
export const DEFAULT_CLOUDFLARE_BASE_URL = "https://api.cloudflare.com/client/v4";

const MASK = "****";

/** What {@link CloudflareCredentials} is built from; `secret` is the API token or the global API key. */
export interface CloudflareCredentialsInit {
  /** `token`: `Authorization: Bearer`; `key`: the legacy `X-Auth-Email` + `X-Auth-Key` pair. */
  kind: "token" | "key";
  secret: string;
  /** Required when `kind` is `key`. */
  email?: string;
  accountId?: string;
  /** @default DEFAULT_CLOUDFLARE_BASE_URL */
  baseUrl?: string;
  /** The active profile, named in error messages. */
  profile: string;
  /**
   * Where the secret came from, so that an error can say which one to fix:
   * `program` is a scope's credentials override (`alchemy.run(name,
   * { credentials: { cloudflare } }, fn)`) or a store's `apiToken` option.
   */
  source: CloudflareCredentialSource;
}

/** Where Cloudflare credentials came from: the profile, the environment, or the program itself. */
export type CloudflareCredentialSource = "profile" | "environment" | "program";

const ENV_NAMES: Record<string, string> = { apiToken: "CLOUDFLARE_API_TOKEN", apiKey: "CLOUDFLARE_API_KEY", email: "CLOUDFLARE_EMAIL", accountId: "CLOUDFLARE_ACCOUNT_ID", baseUrl: "CLOUDFLARE_BASE_URL" };

/**
 * Credentials for the Cloudflare REST API. Printing, logging or serialising
 * one shows the profile, the source, the account id and the base URL, never
 * the token or key.
 *
 * @example
 * const credentials = cloudflareCredentials(profileSettings, process.env, "ci");
 * await fetch(`${credentials.baseUrl}/user/tokens/verify`, { headers: credentials.authHeaders() });
 */
export class CloudflareCredentials {
  readonly kind: "token" | "key";
  /** The account to use; when absent the client asks `GET /accounts`. */
  readonly accountId: string | undefined;
  /** Base URL without a trailing slash, e.g. `https://api.cloudflare.com/client/v4`. */
  readonly baseUrl: string;
  readonly profile: string;
  readonly source: CloudflareCredentialSource;
  readonly #secret: string;
  readonly #email: string | undefined;

  constructor(init: CloudflareCredentialsInit) {
    const key = init.kind === "token" ? "apiToken" : "apiKey";
    const what =
      init.source === "profile" ? `cloudflare.${key} of profile "${init.profile}"` : init.source === "program" ? `The cloudflare ${key} the program gives` : ENV_NAMES[key];
    // fetch would refuse such a header and quote its value, the secret, in its error.
    if (!/^[\x21-\x7e]+$/.test(init.secret) || (init.email !== undefined && !/^[\x20-\x7e]+$/.test(init.email))) {
      throw new ProfileError(`${what} (or its email) holds characters an HTTP header cannot carry, such as a line break or a space inside; set it again without them.`, {
        profile: init.profile,
        provider: "cloudflare",
      });
    }
    this.kind = init.kind;
    this.#secret = init.secret;
    this.#email = init.email;
    this.accountId = init.accountId;
    this.baseUrl = (init.baseUrl ?? DEFAULT_CLOUDFLARE_BASE_URL).replace(/\/+$/, "");
    this.profile = init.profile;
    this.source = init.source;
  }

  /** The headers that authenticate a request; the only way the secret leaves this object. */
  authHeaders(): Record<string, string> {
    return this.kind === "token" ? { authorization: `Bearer ${this.#secret}` } : { "x-auth-email": this.#email ?? "", "x-auth-key": this.#secret };
  }

  /**
   * `text` with every occurrence of the secret masked: for text that came from
   * elsewhere (a server's error message) before it goes into an error or a log.
   *
   * @example
   * credentials.redact(`bad token ${token}`); // "bad token ****"
   */
  redact(text: string): string {
    return this.#secret.length > 0 ? text.split(this.#secret).join(MASK) : text;
  }

  /**
   * Who holds the secret, for messages: `the API token of profile "ci"` or
   * `the API token from CLOUDFLARE_API_TOKEN`.
   */
  describeHolder(): string {
    const what = this.kind === "token" ? "API token" : "API key";
    if (this.source === "profile") return `the ${what} of profile "${this.profile}"`;
    if (this.source === "program") return `the ${what} the program gives (a scope's credentials override, or a store's apiToken option)`;
    return `the ${what} from ${this.kind === "token" ? "CLOUDFLARE_API_TOKEN" : "CLOUDFLARE_API_KEY"} (profile "${this.profile}" has no cloudflare settings)`;
  }

  /** How to replace the secret, for messages about a refused one. */
  fixCommand(): string {
    if (this.source === "program") return `pass another ${this.kind === "token" ? "apiToken" : "apiKey"} where the program gives it`;
    if (this.source === "environment") return this.kind === "token" ? "set CLOUDFLARE_API_TOKEN to another token" : "set CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL";
    return this.kind === "token" ? `alchemy profile set ${this.profile} cloudflare.apiToken=-` : `alchemy profile set ${this.profile} cloudflare.apiKey=- cloudflare.email=...`;
  }

  /**
   * How to change setting `key` where these credentials came from, for messages.
   *
   * @example
   * credentials.settingFix("accountId"); // "`alchemy profile set ci cloudflare.accountId=...`"
   */
  settingFix(key: "accountId" | "baseUrl"): string {
    if (this.source === "profile") return `\`alchemy profile set ${this.profile} cloudflare.${key}=...\``;
    if (this.source === "program") return `the ${key} the program gives beside its token`;
    return ENV_NAMES[key];
  }

  toJSON(): Record<string, string | undefined> {
    return { profile: this.profile, source: this.source, kind: this.kind, accountId: this.accountId, baseUrl: this.baseUrl };
  }

  toString(): string {
    return `CloudflareCredentials(${this.describeHolder()}, ${this.accountId ? `account ${this.accountId}, ` : ""}${this.baseUrl})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * The Cloudflare credentials of profile `profile`: its `cloudflare` settings
 * when it has any, else the environment.
 *
 * @param settings the `cloudflare` section of the profile (`credentials.tryFor("cloudflare")`), or undefined.
 * @param from `program` when `settings` are a scope's credentials override rather than the profile's section.
 * @throws ProfileError when neither gives an API token (or key + email), or a
 *   setting has the wrong type; the message names the profile and the command
 *   or variables that fix it, never a value.
 * @example
 * const credentials = cloudflareCredentials(run.credentials.tryFor("cloudflare"), process.env, run.profile);
 */
export function cloudflareCredentials(
  settings: Record<string, unknown> | undefined,
  env: NodeJS.ProcessEnv,
  profile: string,
  from: "profile" | "program" = "profile",
): CloudflareCredentials {
  if (from === "program") return fromProgram(settings ?? {}, profile);
  if (settings !== undefined && Object.keys(settings).length > 0) return fromProfile(settings, profile);
  const token = nonEmpty(env.CLOUDFLARE_API_TOKEN);
  const key = nonEmpty(env.CLOUDFLARE_API_KEY);
  const email = nonEmpty(env.CLOUDFLARE_EMAIL);
  const common = { accountId: nonEmpty(env.CLOUDFLARE_ACCOUNT_ID), baseUrl: baseUrlOf(nonEmpty(env.CLOUDFLARE_BASE_URL), "CLOUDFLARE_BASE_URL", profile), profile, source: "environment" as const };
  if (token) return new CloudflareCredentials({ kind: "token", secret: token, ...common });
  if (key && email) return new CloudflareCredentials({ kind: "key", secret: key, email, ...common });
  if (key) throw missing(profile, "CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is not: the global API key needs the account's email. Set CLOUDFLARE_EMAIL, or use an API token instead");
  throw missing(profile, `Profile "${profile}" has no cloudflare settings and the environment has no CLOUDFLARE_API_TOKEN`);
}

function fromProfile(settings: Record<string, unknown>, profile: string): CloudflareCredentials {
  const token = stringSetting(settings, "apiToken", profile);
  const key = stringSetting(settings, "apiKey", profile);
  const email = stringSetting(settings, "email", profile);
  const common = { accountId: stringSetting(settings, "accountId", profile), baseUrl: baseUrlOf(stringSetting(settings, "baseUrl", profile), "cloudflare.baseUrl", profile), profile, source: "profile" as const };
  if (token) return new CloudflareCredentials({ kind: "token", secret: token, ...common });
  if (key && email) return new CloudflareCredentials({ kind: "key", secret: key, email, ...common });
  if (key) throw missing(profile, `Profile "${profile}" has cloudflare.apiKey but no cloudflare.email, which the global API key needs. Add it with \`alchemy profile set ${profile} cloudflare.email=...\`, or use an API token instead`);
  throw missing(profile, `Profile "${profile}" has cloudflare settings (${Object.keys(settings).join(", ")}) but no cloudflare.apiToken; the environment is not consulted when a profile has cloudflare settings`);
}

/** A scope's override is used as it is: its own messages, never the profile's `alchemy profile set`. */
function fromProgram(settings: Record<string, unknown>, profile: string): CloudflareCredentials {
  const setting = (key: string): string | undefined => {
    const value = settings[key];
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value === "string") return value;
    throw new ProfileError(`The cloudflare credentials the program gives (a scope's credentials override) have ${key} as a ${Array.isArray(value) ? "list" : typeof value}; it must be a string.`, {
      profile,
      provider: "cloudflare",
      key: `cloudflare.${key}`,
    });
  };
  const common = { accountId: setting("accountId"), baseUrl: baseUrlOf(setting("baseUrl"), "the baseUrl of the program's cloudflare credentials", profile), profile, source: "program" as const };
  const [token, key, email] = [setting("apiToken"), setting("apiKey"), setting("email")];
  if (token) return new CloudflareCredentials({ kind: "token", secret: token, ...common });
  if (key && email) return new CloudflareCredentials({ kind: "key", secret: key, email, ...common });
  throw new ProfileError(
    `The cloudflare credentials the program gives (a scope's credentials override${Object.keys(settings).length > 0 ? ` with ${Object.keys(settings).join(", ")}` : ""}) ` +
      `have no ${key ? "email beside the apiKey" : "apiToken"}. Add it to the override, e.g. alchemy.run(name, { credentials: { cloudflare: { apiToken, accountId } } }, fn); ` +
      `the profile and the environment are not consulted for a scope that overrides its cloudflare credentials.`,
    { profile, provider: "cloudflare" },
  );
}

function missing(profile: string, what: string): ProfileError {
  return new ProfileError(
    `${what}. Give profile "${profile}" a Cloudflare API token with \`alchemy profile set ${profile} cloudflare.apiToken=- cloudflare.accountId=...\` ` +
      `(the token is read from stdin), or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID in the environment of a profile without cloudflare settings.`,
    { profile, provider: "cloudflare" },
  );
}

function stringSetting(settings: Record<string, unknown>, key: string, profile: string): string | undefined {
  const value = settings[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") return value;
  throw new ProfileError(`Profile "${profile}" setting cloudflare.${key} must be a string, not a ${Array.isArray(value) ? "list" : typeof value}. Set it with \`alchemy profile set ${profile} cloudflare.${key}=...\`.`, {
    profile,
    provider: "cloudflare",
    key: `cloudflare.${key}`,
  });
}

function baseUrlOf(value: string | undefined, name: string, profile: string): string {
  if (value === undefined) return DEFAULT_CLOUDFLARE_BASE_URL;
  const url = plainHttpUrl(value);
  if (!url) {
    throw new ProfileError(`${name}${name.startsWith("the ") ? "" : ` (profile "${profile}")`} must be an http(s) URL without credentials, query or fragment, such as ${DEFAULT_CLOUDFLARE_BASE_URL}.`, {
      profile,
      provider: "cloudflare",
      key: name.startsWith("cloudflare.") ? name : undefined,
    });
  }
  return url.href.replace(/\/+$/, "");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
