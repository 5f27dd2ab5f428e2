import { describe, expect, it } from "vitest";
import { isSecretKey, maskSecret, redactSetting, redactSettings, redactUrl } from "./redact.js";

describe("isSecretKey", () => {
  it.each(["apiToken", "api_token", "API-TOKEN", "token", "secret", "clientSecret", "password", "PGPASSWORD", "passwd", "pwd", "passphrase", "apiKey", "key", "secretAccessKey", "privateKey", "credentials", "authorization", "sessionCookie", "tokenUrl"])(
    "treats %s as secret",
    (key) => expect(isSecretKey(key)).toBe(true),
  );

  it.each(["accountId", "accessKeyId", "keyName", "region", "url", "host", "user", "username", "database", "zoneId", "tokenId"])("treats %s as not secret", (key) =>
    expect(isSecretKey(key)).toBe(false),
  );
});

describe("redactUrl", () => {
  it.each([
    ["postgres://app:CANARY@db:5432/shop?sslmode=require", "postgres://app:****@db:5432/shop?sslmode=require"],
    ["postgresql://app:CANARY@db/shop", "postgresql://app:****@db/shop"],
    ["https://user:CANARY@example.com", "https://user:****@example.com"],
    ["postgres://app:CAN@RY@db/shop", "postgres://app:****@db/shop"],
    ["postgres://app:CAN/ARY@db/shop", "postgres://app:****@db/shop"],
    ["postgres://db/shop?user=app&password=CANARY&sslmode=require", "postgres://db/shop?user=app&password=****&sslmode=require"],
    ["https://api.example.com/v1?api_key=CANARY", "https://api.example.com/v1?api_key=****"],
  ])("masks the password in %s", (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it.each([
    "postgres://app@db:5432/shop",
    "postgres://db:5432/shop",
    "https://example.com:8443/path?q=a@b.c",
    "https://[::1]:8443/?email=a@b.c",
    "not a url: secret",
    "plain",
  ])("leaves %s as it is", (text) => {
    expect(redactUrl(text)).toBe(text);
  });
});

describe("redactSetting", () => {
  it("masks secret keys whole, showing only the length", () => {
    expect(maskSecret("abc")).toBe("****(3 chars)");
    expect(maskSecret("a")).toBe("****(1 char)");
    expect(redactSetting("apiToken", "CANARY-token")).toBe("****(12 chars)");
    expect(redactSetting("pin_password", 1234)).toBe("****(4 chars)");
    expect(redactSetting("databaseUrlPassword", "postgres://x")).toBe("****(12 chars)");
  });

  it("shows other values, with URL passwords masked", () => {
    expect(redactSetting("accountId", "123")).toBe("123");
    expect(redactSetting("port", 5432)).toBe("5432");
    expect(redactSetting("ssl", true)).toBe("true");
    expect(redactSetting("url", "postgres://u:CANARY@h/db")).toBe("postgres://u:****@h/db");
  });

  it("redacts every setting of a provider and keeps no secret value", () => {
    const shown = redactSettings({ accountId: "123", apiToken: "CANARY-1", url: "https://x:CANARY-2@h", clientSecret: "CANARY-3" });
    expect(shown).toEqual({ accountId: "123", apiToken: "****(8 chars)", url: "https://x:****@h", clientSecret: "****(8 chars)" });
    expect(JSON.stringify(shown)).not.toContain("CANARY");
  });
});
