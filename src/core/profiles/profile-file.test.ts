import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProfileError } from "./profile-error.js";
import { alchemyHome, profilesFile, readProfiles, updateProfiles, validateProfiles, writeProfiles } from "./profile-file.js";

const posix = process.platform !== "win32";
let home = "";
let file = "";
beforeEach(() => {
  home = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-profiles-")), "home");
  file = path.join(home, "profiles.json");
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(path.dirname(home), { recursive: true, force: true });
});

const mode = (target: string) => fs.statSync(target).mode & 0o777;
const writeRaw = (text: string, fileMode = 0o600) => {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, text, { mode: fileMode });
  fs.chmodSync(file, fileMode);
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

describe("where profiles live", () => {
  it("is $ALCHEMY_HOME, else ~/.alchemy, with an empty ALCHEMY_HOME counted as unset", () => {
    expect(alchemyHome({ ALCHEMY_HOME: home })).toBe(home);
    expect(alchemyHome({})).toBe(path.join(os.homedir(), ".alchemy"));
    expect(alchemyHome({ ALCHEMY_HOME: "" })).toBe(path.join(os.homedir(), ".alchemy"));
    expect(profilesFile({ ALCHEMY_HOME: home })).toBe(file);
  });
});

describe("reading profiles.json", () => {
  it("finds no profiles when the file does not exist", () => {
    expect(readProfiles(file)).toEqual({ profiles: {} });
  });

  it("reads back what was written", () => {
    const doc = { profiles: { ci: { cloudflare: { accountId: "123", apiToken: "abc" }, postgres: { url: "postgres://u:p@h/db", ssl: true, port: 5432 } } } };
    writeProfiles(file, doc);
    expect(readProfiles(file)).toEqual(doc);
  });

  it.runIf(posix)("refuses a file group or other users may read, saying to chmod 600 it", () => {
    writeRaw(`{"profiles":{"ci":{"cloudflare":{"apiToken":"CANARY-perm-secret"}}}}`, 0o644);
    const error = thrown(() => readProfiles(file));
    expect(error.message).toContain(`The profiles file ${file} has mode 0644`);
    expect(error.message).toContain(`chmod 600 ${file}`);
    expect(error.message).not.toContain("CANARY");
    expect(error.file).toBe(file);
  });

  it.runIf(posix)("refuses a file group or other users may write, even if they cannot read it", () => {
    writeRaw(`{"profiles":{}}`, 0o620);
    expect(() => readProfiles(file)).toThrow(`chmod 600 ${file}`);
    fs.chmodSync(file, 0o600);
    expect(readProfiles(file)).toEqual({ profiles: {} });
  });

  it("says which file is not JSON", () => {
    writeRaw(`{"profiles": {`);
    expect(() => readProfiles(file)).toThrow(`The profiles file ${file} is not valid JSON`);
  });

  it("names the file and the bad key of an invalid structure, never the value", () => {
    const cases: [unknown, string][] = [
      [[], "the top level"],
      [{ profiles: {}, extra: 1 }, "extra"],
      [{ profiles: [] }, "profiles"],
      [{ profiles: { "bad name": {} } }, "profiles.bad name"],
      [{ profiles: { ci: "CANARY-1" } }, "profiles.ci"],
      [{ profiles: { ci: { "9cloud": {} } } }, "profiles.ci.9cloud"],
      [{ profiles: { ci: { cloudflare: ["CANARY-2"] } } }, "profiles.ci.cloudflare"],
      [{ profiles: { ci: { cloudflare: { "api.token": "CANARY-3" } } } }, "profiles.ci.cloudflare.api.token"],
      [{ profiles: { ci: { cloudflare: { apiToken: { nested: "CANARY-4" } } } } }, "profiles.ci.cloudflare.apiToken"],
      [{ profiles: { ci: { cloudflare: { apiToken: null } } } }, "profiles.ci.cloudflare.apiToken"],
    ];
    for (const [doc, key] of cases) {
      writeRaw(JSON.stringify(doc));
      const error = thrown(() => readProfiles(file));
      expect(error.message).toContain(`The profiles file ${file} is invalid at ${key}:`);
      expect(error.message).not.toContain("CANARY");
      expect(error.file).toBe(file);
    }
  });

  it("does not let a profile named like an Object.prototype member be taken for one", () => {
    writeRaw(`{"profiles":{"constructor":{"cloudflare":{"accountId":"1"}}}}`);
    expect(readProfiles(file).profiles.constructor).toEqual({ cloudflare: { accountId: "1" } });
    expect(() => validateProfiles(JSON.parse(`{"profiles":{"__proto__":{}}}`), file)).toThrow("invalid at profiles.__proto__");
  });
});

describe("writing profiles.json", () => {
  it.runIf(posix)("creates the directory 0700 and the file 0600, whatever the umask", () => {
    const previous = process.umask(0o000);
    try {
      writeProfiles(file, { profiles: { ci: {} } });
    } finally {
      process.umask(previous);
    }
    expect(mode(home)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
  });

  it.runIf(posix)("leaves the mode of an existing directory alone", () => {
    fs.mkdirSync(home, { mode: 0o755 });
    fs.chmodSync(home, 0o755);
    writeProfiles(file, { profiles: {} });
    expect(mode(home)).toBe(0o755);
    expect(mode(file)).toBe(0o600);
  });

  it("replaces the file by rename, so a reader holding the old file still sees it whole, and leaves no temp file", () => {
    writeProfiles(file, { profiles: { old: {} } });
    const reader = fs.openSync(file, "r");
    try {
      writeProfiles(file, { profiles: { new: {} } });
      expect(JSON.parse(fs.readFileSync(reader, "utf8"))).toEqual({ profiles: { old: {} } });
    } finally {
      fs.closeSync(reader);
    }
    expect(readProfiles(file)).toEqual({ profiles: { new: {} } });
    expect(fs.readdirSync(home)).toEqual(["profiles.json"]);
  });

  it("keeps the old file intact when the write fails half way, and removes the temp file", () => {
    writeProfiles(file, { profiles: { old: { postgres: { url: "postgres://old" } } } });
    const real = fs.writeFileSync;
    vi.spyOn(fs, "writeFileSync").mockImplementation((target, data) => {
      real(target, String(data).slice(0, 10));
      throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    });
    expect(() => writeProfiles(file, { profiles: { new: {} } })).toThrow(`Cannot write the profiles file ${file}: ENOSPC`);
    vi.restoreAllMocks();
    expect(readProfiles(file)).toEqual({ profiles: { old: { postgres: { url: "postgres://old" } } } });
    expect(fs.readdirSync(home)).toEqual(["profiles.json"]);
  });

  it("writes nothing for an invalid document", () => {
    writeProfiles(file, { profiles: { ci: {} } });
    expect(() => writeProfiles(file, { profiles: { "no/slash": {} } })).toThrow("invalid at profiles.no/slash");
    expect(readProfiles(file)).toEqual({ profiles: { ci: {} } });
  });

  it("updates the file through a read-modify-write", () => {
    writeProfiles(file, { profiles: { a: {}, b: {} } });
    expect(updateProfiles(file, (doc) => Object.keys(doc.profiles).length)).toBe(2);
    updateProfiles(file, (doc) => {
      delete doc.profiles.a;
    });
    expect(readProfiles(file)).toEqual({ profiles: { b: {} } });
  });
});
