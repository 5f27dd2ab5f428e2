import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ProfileError } from "../../../core/profiles/profile-error.js";
import { cloudflareCredentials, DEFAULT_CLOUDFLARE_BASE_URL, type CloudflareCredentials } from "./credentials.js";

const TOKEN = "CANARY-cf-token-7f3a";
const KEY = "CANARY-global-key-91c2";

const thrown = (fn: () => unknown): ProfileError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProfileError);
    return error as ProfileError;
  }
  throw new Error("expected a ProfileError");
};

/** Every way a credentials object can end up printed or stored. */
const renderings = (credentials: CloudflareCredentials): string[] => [
  JSON.stringify(credentials),
  JSON.stringify({ nested: { credentials } }),
  String(credentials),
  `${credentials}`,
  inspect(credentials),
  inspect({ credentials }, { depth: 10, showHidden: true }),
  Object.keys(credentials).join(","),
  JSON.stringify(Object.entries(credentials)),
];

describe("cloudflareCredentials", () => {
  it("takes the API token, account and base URL from the profile's cloudflare settings", () => {
    const credentials = cloudflareCredentials({ apiToken: TOKEN, accountId: "abc", baseUrl: "http://127.0.0.1:8787/client/v4/" }, {}, "ci");
    expect(credentials).toMatchObject({ kind: "token", accountId: "abc", baseUrl: "http://127.0.0.1:8787/client/v4", profile: "ci", source: "profile" });
    expect(credentials.authHeaders()).toEqual({ authorization: `Bearer ${TOKEN}` });
  });

  it("ignores the environment when the profile has cloudflare settings, so a token is never paired with another account or server", () => {
    const env = { CLOUDFLARE_API_TOKEN: "env-token", CLOUDFLARE_ACCOUNT_ID: "env-account", CLOUDFLARE_BASE_URL: "https://elsewhere.example/v4" };
    const credentials = cloudflareCredentials({ apiToken: TOKEN }, env, "ci");
    expect(credentials.authHeaders().authorization).toBe(`Bearer ${TOKEN}`);
    expect(credentials.accountId).toBeUndefined();
    expect(credentials.baseUrl).toBe(DEFAULT_CLOUDFLARE_BASE_URL);
  });

  it("falls back to CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_BASE_URL when the profile has no cloudflare settings", () => {
    const env = { CLOUDFLARE_API_TOKEN: TOKEN, CLOUDFLARE_ACCOUNT_ID: "abc", CLOUDFLARE_BASE_URL: "http://localhost:9999/client/v4" };
    for (const settings of [undefined, {}]) {
      const credentials = cloudflareCredentials(settings, env, "default");
      expect(credentials).toMatchObject({ kind: "token", accountId: "abc", baseUrl: "http://localhost:9999/client/v4", source: "environment" });
      expect(credentials.authHeaders()).toEqual({ authorization: `Bearer ${TOKEN}` });
    }
    expect(cloudflareCredentials(undefined, { CLOUDFLARE_API_TOKEN: TOKEN }, "default").baseUrl).toBe("https://api.cloudflare.com/client/v4");
  });

  it("accepts the legacy global API key with its email, from the profile or the environment", () => {
    const fromProfile = cloudflareCredentials({ apiKey: KEY, email: "me@example.com", accountId: "abc" }, {}, "ci");
    expect(fromProfile.authHeaders()).toEqual({ "x-auth-email": "me@example.com", "x-auth-key": KEY });
    const fromEnv = cloudflareCredentials(undefined, { CLOUDFLARE_API_KEY: KEY, CLOUDFLARE_EMAIL: "me@example.com" }, "ci");
    expect(fromEnv).toMatchObject({ kind: "key", source: "environment" });
    expect(fromEnv.authHeaders()["x-auth-key"]).toBe(KEY);
  });

  it("prefers the API token to the global key when both are set", () => {
    const credentials = cloudflareCredentials(undefined, { CLOUDFLARE_API_TOKEN: TOKEN, CLOUDFLARE_API_KEY: KEY, CLOUDFLARE_EMAIL: "me@example.com" }, "ci");
    expect(credentials.kind).toBe("token");
  });

  it("fails without credentials, naming the profile and both ways to set them", () => {
    const error = thrown(() => cloudflareCredentials(undefined, {}, "ci"));
    expect(error.message).toContain('Profile "ci" has no cloudflare settings');
    expect(error.message).toContain("alchemy profile set ci cloudflare.apiToken=- cloudflare.accountId=...");
    expect(error.message).toContain("CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID");
    expect(error).toMatchObject({ profile: "ci", provider: "cloudflare" });
  });

  it("fails when the profile has cloudflare settings without a token, rather than taking one from the environment", () => {
    const error = thrown(() => cloudflareCredentials({ accountId: "abc" }, { CLOUDFLARE_API_TOKEN: TOKEN }, "ci"));
    expect(error.message).toContain('Profile "ci" has cloudflare settings (accountId) but no cloudflare.apiToken');
    expect(error.message).toContain("alchemy profile set ci cloudflare.apiToken=-");
  });

  it("fails for a global key without its email, saying which setting is missing", () => {
    expect(thrown(() => cloudflareCredentials({ apiKey: KEY }, {}, "ci")).message).toContain("cloudflare.email");
    expect(thrown(() => cloudflareCredentials(undefined, { CLOUDFLARE_API_KEY: KEY }, "ci")).message).toContain("CLOUDFLARE_EMAIL is not");
  });

  it("rejects a setting of the wrong type or a base URL that is not http(s), without showing the value", () => {
    const wrongType = thrown(() => cloudflareCredentials({ apiToken: 12345678 }, {}, "ci"));
    expect(wrongType.message).toContain("cloudflare.apiToken must be a string, not a number");
    expect(wrongType.message).not.toContain("12345678");
    expect(wrongType.key).toBe("cloudflare.apiToken");
    const badUrl = thrown(() => cloudflareCredentials({ apiToken: TOKEN, baseUrl: `ftp://user:${TOKEN}@x` }, {}, "ci"));
    expect(badUrl.message).toContain("cloudflare.baseUrl");
    expect(badUrl.message).not.toContain(TOKEN);
    expect(() => cloudflareCredentials(undefined, { CLOUDFLARE_API_TOKEN: TOKEN, CLOUDFLARE_BASE_URL: "not a url" }, "ci")).toThrow("CLOUDFLARE_BASE_URL");
  });

  it("rejects a token an HTTP header cannot carry, which fetch would quote in its error", () => {
    const error = thrown(() => cloudflareCredentials({ apiToken: `${TOKEN}\nX-Injected: 1` }, {}, "ci"));
    expect(error.message).toContain('cloudflare.apiToken of profile "ci" (or its email) holds characters an HTTP header cannot carry');
    expect(error.message).not.toContain(TOKEN);
    expect(() => cloudflareCredentials(undefined, { CLOUDFLARE_API_TOKEN: "tok en" }, "ci")).toThrow("CLOUDFLARE_API_TOKEN");
  });

  it("never shows the token or key in JSON, String(), util.inspect or its own keys", () => {
    const all = [
      cloudflareCredentials({ apiToken: TOKEN, accountId: "abc" }, {}, "ci"),
      cloudflareCredentials(undefined, { CLOUDFLARE_API_TOKEN: TOKEN }, "ci"),
      cloudflareCredentials({ apiKey: KEY, email: "me@example.com" }, {}, "ci"),
    ];
    for (const credentials of all) {
      for (const text of renderings(credentials)) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(KEY);
      }
    }
    expect(JSON.parse(JSON.stringify(all[0]))).toEqual({ profile: "ci", source: "profile", kind: "token", accountId: "abc", baseUrl: DEFAULT_CLOUDFLARE_BASE_URL });
    expect(inspect(all[0])).toBe(`CloudflareCredentials(the API token of profile "ci", account abc, ${DEFAULT_CLOUDFLARE_BASE_URL})`);
  });

  it("masks the secret in text from elsewhere, such as a server's error message", () => {
    const credentials = cloudflareCredentials({ apiToken: TOKEN }, {}, "ci");
    expect(credentials.redact(`token ${TOKEN} is invalid; ${TOKEN}`)).toBe("token **** is invalid; ****");
  });

  it("says who holds the secret and how to replace it, for the client's messages", () => {
    expect(cloudflareCredentials({ apiToken: TOKEN }, {}, "ci").describeHolder()).toBe('the API token of profile "ci"');
    expect(cloudflareCredentials(undefined, { CLOUDFLARE_API_TOKEN: TOKEN }, "ci").describeHolder()).toBe(
      'the API token from CLOUDFLARE_API_TOKEN (profile "ci" has no cloudflare settings)',
    );
    expect(cloudflareCredentials({ apiToken: TOKEN }, {}, "ci").fixCommand()).toBe("alchemy profile set ci cloudflare.apiToken=-");
  });

  it("takes a scope's override as it is: its own settings only, and messages that point at the override, not at alchemy profile set", () => {
    const env = { CLOUDFLARE_API_TOKEN: "CANARY-env", CLOUDFLARE_ACCOUNT_ID: "env-account" };
    const given = cloudflareCredentials({ apiToken: TOKEN, accountId: "abc" }, env, "ci", "program");
    expect(given.toJSON()).toMatchObject({ source: "program", accountId: "abc", baseUrl: DEFAULT_CLOUDFLARE_BASE_URL });
    expect(given.describeHolder()).toBe("the API token the program gives (a scope's credentials override, or a store's apiToken option)");
    expect(given.fixCommand()).toBe("pass another apiToken where the program gives it");
    expect(given.settingFix("accountId")).toBe("the accountId the program gives beside its token");
    const missing = thrown(() => cloudflareCredentials({ accountId: "abc" }, env, "ci", "program"));
    expect(missing.message).toContain("The cloudflare credentials the program gives (a scope's credentials override with accountId) have no apiToken. Add it to the override");
    expect(missing.message).not.toContain("alchemy profile set");
    const wrongType = thrown(() => cloudflareCredentials({ apiToken: 42 }, env, "ci", "program"));
    expect(wrongType.message).toContain("have apiToken as a number; it must be a string");
    expect(wrongType.message).not.toContain("42");
  });
});
