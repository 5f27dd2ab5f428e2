import fs from "node:fs";
import type { PassThrough } from "node:stream";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Credentials } from "../../core/profiles/credentials.js";
import { readProfiles } from "../../core/profiles/profile-file.js";
import { UsageError } from "../exit-codes.js";
import { captureIO, type CapturedIO } from "../io.test-fixture.js";
import { profileList, profileRm, profileSet, profileShow } from "./profile.js";

let cwd = "";
let home = "";
let file = "";
beforeEach(() => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-profile-cli-"));
  home = path.join(cwd, "alchemy-home");
  file = path.join(home, "profiles.json");
});
afterEach(() => fs.rmSync(cwd, { recursive: true, force: true }));

const io = (): CapturedIO => captureIO(cwd, { ALCHEMY_HOME: home, HOME: path.join(cwd, "not-home") });
const set = async (name: string, ...assignments: string[]) => {
  const session = io();
  const code = await profileSet(name, assignments, session);
  return { code, out: session.out(), err: session.err() };
};

describe("alchemy profile set", () => {
  it("creates $ALCHEMY_HOME (0700) and profiles.json (0600) with the settings, printing keys but not values", async () => {
    const result = await set("ci", "postgres.url=postgres://u:CANARY-pw@h/db", "cloudflare.apiToken=CANARY-token", "cloudflare.accountId=123");
    expect(result.code).toBe(0);
    expect(result.out).toBe(`Created profile "ci" in ${file}: set postgres.url, cloudflare.apiToken, cloudflare.accountId.\n`);
    expect(result.out + result.err).not.toContain("CANARY");
    expect(readProfiles(file)).toEqual({
      profiles: { ci: { postgres: { url: "postgres://u:CANARY-pw@h/db" }, cloudflare: { apiToken: "CANARY-token", accountId: "123" } } },
    });
    if (process.platform !== "win32") {
      expect(fs.statSync(home).mode & 0o777).toBe(0o700);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(fs.existsSync(path.join(cwd, "not-home"))).toBe(false);
  });

  it("updates one setting of an existing profile and keeps the others, and an empty value removes a setting", async () => {
    await set("ci", "cloudflare.apiToken=old", "cloudflare.accountId=123", "postgres.url=postgres://h/db");
    expect((await set("ci", "cloudflare.apiToken=new", "postgres.url=")).out).toBe(`Updated profile "ci" in ${file}: set cloudflare.apiToken; removed postgres.url.\n`);
    expect(readProfiles(file).profiles.ci).toEqual({ cloudflare: { apiToken: "new", accountId: "123" } });
  });

  it("keeps a value containing '=' whole", async () => {
    await set("ci", "cloudflare.apiToken=abc==");
    expect(readProfiles(file).profiles.ci.cloudflare.apiToken).toBe("abc==");
  });

  it("reads a value given as '-' from stdin, so it stays out of the shell history", async () => {
    const session = io();
    (session.stdin as PassThrough).end("CANARY-from-stdin\n");
    expect(await profileSet("ci", ["cloudflare.apiToken=-", "cloudflare.accountId=1"], session)).toBe(0);
    expect(readProfiles(file).profiles.ci.cloudflare).toEqual({ apiToken: "CANARY-from-stdin", accountId: "1" });
    expect(session.out() + session.err()).not.toContain("CANARY");
  });

  it.each([
    [["CANARY-pasted-token"], "it has no \"=\""],
    [["CANARYtokenwithpadding=="], "has no \".\" between provider and key"],
    [["eyJCANARY.payload.sig=x"], "the setting key after the provider is not valid"],
    [["9cloud.apiToken=CANARY"], "the provider name is not valid"],
    [[], "needs at least one <provider>.<key>=<value>"],
    [["cloudflare.apiToken=a", "cloudflare.apiToken=CANARY"], "cloudflare.apiToken is assigned twice"],
    [["a.b=-", "a.c=-"], "Only one value can be read from stdin"],
  ])("rejects %j as a usage error without repeating any value", async (assignments, problem) => {
    const session = io();
    const failure = await profileSet("ci", assignments, session).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as Error).message).toContain(problem);
    expect((failure as Error).message).not.toContain("CANARY");
    expect(fs.existsSync(file)).toBe(false);
  });

  it("rejects an invalid profile name as a usage error", async () => {
    await expect(set("../ci", "a.b=c")).rejects.toThrow(UsageError);
    await expect(set("", "a.b=c")).rejects.toThrow(/"" is not a valid profile name/);
  });

  it("refuses to remove a setting of a profile that does not exist", async () => {
    const result = await set("ghost", "cloudflare.apiToken=");
    expect(result.code).toBe(1);
    expect(result.err).toContain(`Profile "ghost" is not defined in ${file}, so it has no setting to remove.`);
  });

  it.runIf(process.platform !== "win32")("exits 1 and says to chmod 600 a world-readable profiles file, changing nothing", async () => {
    await set("ci", "cloudflare.apiToken=CANARY");
    fs.chmodSync(file, 0o644);
    const result = await set("ci", "cloudflare.accountId=1");
    expect(result.code).toBe(1);
    expect(result.err).toContain(`chmod 600 ${file}`);
    expect(result.err).not.toContain("CANARY");
    fs.chmodSync(file, 0o600);
    expect(readProfiles(file).profiles.ci).toEqual({ cloudflare: { apiToken: "CANARY" } });
  });
});

describe("alchemy profile show", () => {
  beforeEach(async () => {
    await set("ci", "postgres.url=postgres://app:CANARY-pw@db:5432/shop", "cloudflare.apiToken=CANARY-token", "cloudflare.accountId=123");
  });

  it("prints every setting with secrets masked", async () => {
    const session = io();
    expect(await profileShow("ci", { json: false }, session)).toBe(0);
    expect(session.out()).toBe(
      [
        `Profile "ci" (${file})`,
        "  cloudflare",
        "    accountId: 123",
        "    apiToken: ****(12 chars)",
        "  postgres",
        "    url: postgres://app:****@db:5432/shop",
        "",
      ].join("\n"),
    );
    expect(session.out() + session.err()).not.toContain("CANARY");
  });

  it("prints the same, masked, as JSON", async () => {
    const session = io();
    expect(await profileShow("ci", { json: true }, session)).toBe(0);
    expect(JSON.parse(session.out())).toEqual({
      profile: "ci",
      file,
      settings: { cloudflare: { accountId: "123", apiToken: "****(12 chars)" }, postgres: { url: "postgres://app:****@db:5432/shop" } },
    });
    expect(session.out()).not.toContain("CANARY");
  });

  it("exits 1 for a profile that is not defined, naming the file and the defined ones", async () => {
    const session = io();
    expect(await profileShow("prod", { json: false }, session)).toBe(1);
    expect(session.err()).toBe(`error: Profile "prod" is not defined in ${file} (defined: ci).\n`);
  });

  it("still hands the real values to providers", () => {
    expect(Credentials.fromEnv("ci", { ALCHEMY_HOME: home }).for("cloudflare")).toEqual({ apiToken: "CANARY-token", accountId: "123" });
  });
});

describe("alchemy profile list", () => {
  it("says there are no profiles yet, and how to create one", async () => {
    const session = io();
    expect(await profileList({ json: false }, session)).toBe(0);
    expect(session.err()).toContain(`No profiles in ${file}. Create one with \`alchemy profile set <name> <provider>.<key>=<value>\`.`);
  });

  it("lists each profile with its providers, never a setting", async () => {
    await set("prod", "cloudflare.apiToken=CANARY-1");
    await set("ci", "postgres.url=postgres://u:CANARY-2@h/db", "cloudflare.accountId=1");
    const text = io();
    expect(await profileList({ json: false }, text)).toBe(0);
    expect(text.out()).toBe("ci    cloudflare, postgres\nprod  cloudflare\n");
    const json = io();
    expect(await profileList({ json: true }, json)).toBe(0);
    expect(JSON.parse(json.out())).toEqual({
      file,
      profiles: [
        { name: "ci", providers: ["cloudflare", "postgres"] },
        { name: "prod", providers: ["cloudflare"] },
      ],
    });
    expect(text.out() + json.out()).not.toContain("CANARY");
  });
});

describe("alchemy profile rm", () => {
  it("removes the profile and leaves the others", async () => {
    await set("ci", "cloudflare.accountId=1");
    await set("prod", "cloudflare.accountId=2");
    const session = io();
    expect(await profileRm("ci", session)).toBe(0);
    expect(session.out()).toBe(`Removed profile "ci" from ${file}.\n`);
    expect(readProfiles(file)).toEqual({ profiles: { prod: { cloudflare: { accountId: "2" } } } });
    if (process.platform !== "win32") expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it("exits 1 for a profile that is not defined", async () => {
    const session = io();
    expect(await profileRm("ci", session)).toBe(1);
    expect(session.err()).toBe(`error: Profile "ci" is not defined in ${file}, which holds no profiles. Create it with \`alchemy profile set ci <provider>.<key>=<value>\`.\n`);
    expect(fs.existsSync(file)).toBe(false);
  });
});
