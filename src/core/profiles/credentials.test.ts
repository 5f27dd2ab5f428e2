import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Credentials } from "./credentials.js";
import { ProfileError } from "./profile-error.js";
import { profilesFile, writeProfiles, type ProfilesDocument } from "./profile-file.js";

let home = "";
let file = "";
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-credentials-"));
  file = profilesFile({ ALCHEMY_HOME: home });
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

const doc: ProfilesDocument = {
  profiles: {
    ci: { cloudflare: { accountId: "123", apiToken: "CANARY-cf-token" }, postgres: { url: "postgres://ci:CANARY-pw@db/app" } },
    prod: { cloudflare: { accountId: "999", apiToken: "CANARY-prod" } },
  },
};
const thrown = (fn: () => unknown): ProfileError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProfileError);
    return error as ProfileError;
  }
  throw new Error("expected a ProfileError");
};

describe("Credentials", () => {
  it("gives a provider the active profile's settings, from $ALCHEMY_HOME/profiles.json", () => {
    writeProfiles(file, doc);
    const credentials = Credentials.fromEnv("ci", { ALCHEMY_HOME: home });
    expect(credentials.for("cloudflare")).toEqual({ accountId: "123", apiToken: "CANARY-cf-token" });
    expect(credentials.for<{ url: string }>("postgres").url).toBe("postgres://ci:CANARY-pw@db/app");
    expect(Credentials.fromEnv("prod", { ALCHEMY_HOME: home }).for("cloudflare")).toEqual({ accountId: "999", apiToken: "CANARY-prod" });
  });

  it("reads nothing until a provider asks, so an undefined profile or a missing file is no error by itself", () => {
    let loads = 0;
    const credentials = new Credentials({ profile: "nope", file, load: () => (loads++, doc) });
    const scoped = credentials.withOverrides("postgres", { url: "postgres://localhost/test" });
    expect(loads).toBe(0);
    expect(scoped.for("postgres")).toEqual({ url: "postgres://localhost/test" });
    expect(loads).toBe(0); // an override needs no profile
    expect(() => scoped.for("cloudflare")).toThrow(ProfileError);
    expect(() => credentials.for("cloudflare")).toThrow(ProfileError);
    expect(loads).toBe(1); // read once, shared by the scoped copy
  });

  it.runIf(process.platform !== "win32")("does not touch an untrusted profiles file until a provider asks", () => {
    writeProfiles(file, doc);
    fs.chmodSync(file, 0o644);
    const credentials = Credentials.fromEnv("ci", { ALCHEMY_HOME: home });
    expect(credentials.profile).toBe("ci");
    expect(() => credentials.for("cloudflare")).toThrow(`chmod 600 ${file}`);
  });

  it("says how to create a profile that is not defined, listing the defined ones, when a provider asks it", () => {
    writeProfiles(file, doc);
    const error = thrown(() => Credentials.fromEnv("staging", { ALCHEMY_HOME: home }).for("cloudflare"));
    expect(error.message).toBe(
      `Profile "staging" is not defined in ${file}, and provider "cloudflare" needs credentials from it. ` +
        "Create it with `alchemy profile set staging cloudflare.<key>=<value>`, or run with one of the defined profiles (ci, prod) using --profile or ALCHEMY_PROFILE.",
    );
    expect(error).toMatchObject({ profile: "staging", provider: "cloudflare", file });
  });

  it("says the same when there is no profiles file at all", () => {
    expect(() => Credentials.fromEnv("default", { ALCHEMY_HOME: home }).for("postgres")).toThrow(
      `Profile "default" is not defined in ${file}, and provider "postgres" needs credentials from it. Create it with \`alchemy profile set default postgres.<key>=<value>\`.`,
    );
  });

  it("says a profile has no settings for a provider, naming those it has", () => {
    writeProfiles(file, doc);
    expect(() => Credentials.fromEnv("prod", { ALCHEMY_HOME: home }).for("postgres")).toThrow(
      `Profile "prod" has no settings for provider "postgres" (profiles are in ${file}). Add them with \`alchemy profile set prod postgres.<key>=<value>\`; it has settings for cloudflare.`,
    );
  });

  it("names a required setting that is missing, and the command that sets it", () => {
    writeProfiles(file, { profiles: { ci: { cloudflare: { accountId: "123" } } } });
    const credentials = Credentials.fromEnv("ci", { ALCHEMY_HOME: home });
    expect(() => credentials.for("cloudflare", { required: ["accountId", "apiToken"] })).toThrow(
      `Profile "ci" has no setting cloudflare.apiToken, which provider "cloudflare" requires. Set it with \`alchemy profile set ci cloudflare.apiToken=<value>\``,
    );
    expect(() => credentials.withOverrides("cloudflare", { accountId: "1" }).for("cloudflare", { required: ["apiToken"] })).toThrow(
      `The credentials a scope gave provider "cloudflare" have no setting "apiToken"`,
    );
  });

  it("gives undefined from tryFor where for would throw for want of settings", () => {
    writeProfiles(file, doc);
    expect(Credentials.fromEnv("nope", { ALCHEMY_HOME: home }).tryFor("cloudflare")).toBeUndefined();
    expect(Credentials.fromEnv("prod", { ALCHEMY_HOME: home }).tryFor("postgres")).toBeUndefined();
    expect(Credentials.fromEnv("prod", { ALCHEMY_HOME: home }).tryFor("cloudflare")).toEqual({ accountId: "999", apiToken: "CANARY-prod" });
  });

  it("lets a scope replace a provider's settings as a whole, without changing the outer credentials", () => {
    writeProfiles(file, doc);
    const outer = Credentials.fromEnv("ci", { ALCHEMY_HOME: home });
    const inner = outer.withOverrides("cloudflare", { accountId: "456", apiToken: "other" });
    expect(inner.for("cloudflare")).toEqual({ accountId: "456", apiToken: "other" });
    expect(inner.for("postgres")).toEqual(outer.for("postgres"));
    expect(outer.for("cloudflare")).toEqual({ accountId: "123", apiToken: "CANARY-cf-token" });
    const partial = outer.withOverrides("cloudflare", { accountId: "789" });
    expect(partial.for("cloudflare")).toEqual({ accountId: "789" }); // not merged with the profile's apiToken
    const innermost = inner.withOverrides({ cloudflare: { accountId: "1" }, postgres: { url: "postgres://x" } });
    expect(innermost.for("cloudflare")).toEqual({ accountId: "1" });
    expect(innermost.for("postgres")).toEqual({ url: "postgres://x" });
    expect(innermost.overriddenProviders.sort()).toEqual(["cloudflare", "postgres"]);
  });

  it("hands out frozen copies, so a provider cannot change what the next one gets", () => {
    writeProfiles(file, doc);
    const credentials = Credentials.fromEnv("ci", { ALCHEMY_HOME: home });
    const first = credentials.for<Record<string, string>>("cloudflare");
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => {
      first.accountId = "changed";
    }).toThrow(TypeError);
    expect(credentials.for("cloudflare")).toEqual({ accountId: "123", apiToken: "CANARY-cf-token" });
  });

  it("rejects invalid provider names and overrides", () => {
    expect(() => new Credentials({ profile: "ci", file }).for("no.dots")).toThrow(`"no.dots" is not a valid provider name`);
    expect(() => new Credentials({ profile: "ci", file, overrides: { cloudflare: "CANARY" as never } })).toThrow(
      `Credentials override for provider "cloudflare" must be an object of settings`,
    );
    expect(() => new Credentials({ profile: "ci", file }).withOverrides("cloudflare", { "api.token": "x" })).toThrow(`invalid setting key "api.token"`);
  });

  it("never shows a secret when serialised, inspected or reported in an error", () => {
    writeProfiles(file, { profiles: { ci: { cloudflare: { apiToken: "CANARY-1" } } } });
    const credentials = Credentials.fromEnv("ci", { ALCHEMY_HOME: home }).withOverrides("postgres", { url: "postgres://u:CANARY-2@h/db" });
    credentials.for("cloudflare");
    expect(JSON.stringify({ credentials })).toBe(`{"credentials":{"profile":"ci"}}`);
    expect(inspect(credentials, { showHidden: true, depth: 5 })).not.toContain("CANARY");
    const messages = [
      thrown(() => credentials.for("cloudflare", { required: ["accountId"] })).message,
      thrown(() => credentials.for("postgres", { required: ["password"] })).message,
      thrown(() => credentials.for("aws")).message,
    ];
    for (const message of messages) expect(message).not.toContain("CANARY");
  });
});
