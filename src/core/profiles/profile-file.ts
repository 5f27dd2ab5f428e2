/**
 * The profiles file, `$ALCHEMY_HOME/profiles.json`: named credential sets kept
 * outside every project, readable by their owner only.
 *
 * ```json
 * { "profiles": { "ci": { "cloudflare": { "accountId": "123", "apiToken": "..." },
 *                         "postgres": { "url": "postgres://ci:...@db/app" } } } }
 * ```
 *
 * The directory is created `0700` and the file written `0600`, atomically (a
 * temporary file is written, fsynced and renamed over the old one), so a crash
 * leaves either the old file or the new one. A file that group or other users
 * may read or write is refused rather than read: credentials in it may have
 * leaked, and a file others can write could swap them.
 *
 * Two `alchemy profile set` commands run at the same instant may lose one of
 * the two updates (last rename wins); the file itself is never torn.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ProfileError } from "./profile-error.js";

/** One setting's value. The command line writes strings; a hand-edited file may hold numbers or booleans. */
export type SettingValue = string | number | boolean;

/** A provider's settings in one profile, e.g. `{ accountId: "123", apiToken: "..." }`. */
export type ProviderSettings = Record<string, SettingValue>;

/** A profile: settings per provider name. */
export type Profile = Record<string, ProviderSettings>;

/** The content of `profiles.json`. */
export interface ProfilesDocument {
  profiles: Record<string, Profile>;
}

/** Mode of `profiles.json` (`rw-------`). */
export const PROFILE_FILE_MODE = 0o600;
/** Mode of `$ALCHEMY_HOME` when alchemy creates it (`rwx------`). */
export const PROFILE_DIR_MODE = 0o700;
/** Name of the profiles file inside `$ALCHEMY_HOME`. */
export const PROFILES_FILE_NAME = "profiles.json";

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PROVIDER_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const SETTING_KEY = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** What a profile name may be: letters, digits, `-`, `_`, `.`, starting with a letter or digit. */
export const PROFILE_NAME_RULE = "letters, digits, '-', '_' and '.', starting with a letter or digit";
/** What a provider name or setting key may be: letters, digits, `-`, `_`, starting with a letter. */
export const IDENTIFIER_RULE = "letters, digits, '-' and '_', starting with a letter";

/**
 * Whether `name` is a valid profile name.
 *
 * @example
 * isProfileName("ci"); // true
 * isProfileName("../ci"); // false
 */
export function isProfileName(name: string): boolean {
  return PROFILE_NAME.test(name);
}

/**
 * Whether `name` is a valid provider name (`cloudflare`, `postgres`).
 *
 * @example
 * isProviderName("cloudflare"); // true
 */
export function isProviderName(name: string): boolean {
  return PROVIDER_NAME.test(name);
}

/**
 * Whether `key` is a valid setting key (`apiToken`, `account_id`).
 *
 * @example
 * isSettingKey("apiToken"); // true
 * isSettingKey("api.token"); // false
 */
export function isSettingKey(key: string): boolean {
  return SETTING_KEY.test(key);
}

/**
 * The alchemy home directory: `$ALCHEMY_HOME`, else `~/.alchemy`. An empty
 * `ALCHEMY_HOME` counts as unset.
 *
 * @default path.join(os.homedir(), ".alchemy")
 * @example
 * alchemyHome(io.env); // "/home/ada/.alchemy"
 */
export function alchemyHome(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.ALCHEMY_HOME || path.join(os.homedir(), ".alchemy"));
}

/**
 * Absolute path of the profiles file for the environment `env`.
 *
 * @example
 * profilesFile({ ALCHEMY_HOME: "/tmp/home" }); // "/tmp/home/profiles.json"
 */
export function profilesFile(env: NodeJS.ProcessEnv): string {
  return path.join(alchemyHome(env), PROFILES_FILE_NAME);
}

/**
 * Reads and validates a profiles file. A file that does not exist holds no
 * profiles.
 *
 * @throws ProfileError when the file may be read or written by group or other
 *   users (fix: `chmod 600 <file>`), is not valid JSON, or does not have the
 *   expected structure (the message names the file and the bad key).
 * @example
 * const doc = readProfiles(profilesFile(process.env));
 * doc.profiles.ci?.cloudflare?.accountId;
 */
export function readProfiles(file: string): ProfilesDocument {
  let text: string;
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return { profiles: {} };
    throw new ProfileError(`Cannot read the profiles file ${file}: ${(error as Error).message}. Check that it belongs to the user running alchemy.`, { file }, { cause: error });
  }
  try {
    // Checked on the open descriptor, so the file read is the file judged.
    checkPrivate(file, fs.fstatSync(fd));
    text = fs.readFileSync(fd, "utf8");
  } finally {
    fs.closeSync(fd);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProfileError(
      `The profiles file ${file} is not valid JSON (${(error as Error).message}). Fix it by hand, or move it away and recreate profiles with \`alchemy profile set\`.`,
      { file },
      { cause: error },
    );
  }
  return validateProfiles(parsed, file);
}

/**
 * Checks that `value` has the structure of a profiles file and returns a copy
 * of it.
 *
 * @param file named in error messages.
 * @throws ProfileError naming `file` and the path of the first bad key, e.g. `profiles.ci.cloudflare.apiToken`.
 * @example
 * validateProfiles({ profiles: { ci: { postgres: { url: "postgres://..." } } } }, "/home/ada/.alchemy/profiles.json");
 */
export function validateProfiles(value: unknown, file: string): ProfilesDocument {
  const bad = (key: string, problem: string) =>
    new ProfileError(`The profiles file ${file} is invalid at ${key}: ${problem}. Fix it by hand, or recreate the profile with \`alchemy profile set\`.`, { file, key });
  if (!isPlainObject(value)) throw bad("the top level", `expected an object { "profiles": { ... } }, got ${describeJson(value)}`);
  for (const key of Object.keys(value)) {
    if (key !== "profiles") throw bad(key, `unknown key (the file holds only "profiles")`);
  }
  const profiles: Record<string, Profile> = {};
  if (value.profiles === undefined) return { profiles };
  if (!isPlainObject(value.profiles)) throw bad("profiles", `expected an object of profiles by name, got ${describeJson(value.profiles)}`);
  for (const [name, profile] of Object.entries(value.profiles)) {
    const at = `profiles.${name}`;
    if (!isProfileName(name)) throw bad(at, `"${name}" is not a valid profile name (${PROFILE_NAME_RULE})`);
    if (!isPlainObject(profile)) throw bad(at, `expected an object of settings by provider, got ${describeJson(profile)}`);
    const copy: Profile = {};
    for (const [provider, settings] of Object.entries(profile)) {
      const providerAt = `${at}.${provider}`;
      if (!isProviderName(provider)) throw bad(providerAt, `"${provider}" is not a valid provider name (${IDENTIFIER_RULE})`);
      if (!isPlainObject(settings)) throw bad(providerAt, `expected an object of settings, got ${describeJson(settings)}`);
      const settingsCopy: ProviderSettings = {};
      for (const [key, setting] of Object.entries(settings)) {
        const keyAt = `${providerAt}.${key}`;
        if (!isSettingKey(key)) throw bad(keyAt, `"${key}" is not a valid setting key (${IDENTIFIER_RULE})`);
        // The value itself is never quoted: it may be a secret.
        if (typeof setting !== "string" && typeof setting !== "boolean" && !(typeof setting === "number" && Number.isFinite(setting))) {
          throw bad(keyAt, `expected a string, number or boolean, got ${describeJson(setting)}`);
        }
        settingsCopy[key] = setting;
      }
      copy[provider] = settingsCopy;
    }
    profiles[name] = copy;
  }
  return { profiles };
}

/**
 * Writes a profiles file atomically with mode `0600`, creating its directory
 * with mode `0700` when missing (an existing directory keeps its mode).
 *
 * @throws ProfileError when the document is invalid (nothing is written) or the file cannot be written.
 * @example
 * const doc = readProfiles(file);
 * doc.profiles.ci = { cloudflare: { accountId: "123" } };
 * writeProfiles(file, doc);
 */
export function writeProfiles(file: string, doc: ProfilesDocument): void {
  const text = `${JSON.stringify(validateProfiles(doc, file), null, 2)}\n`;
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
  try {
    ensurePrivateDir(dir);
    const fd = fs.openSync(temp, "wx", PROFILE_FILE_MODE);
    try {
      fs.fchmodSync(fd, PROFILE_FILE_MODE); // the umask may have narrowed or (with 0o000) not touched it
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
    fsyncDir(dir);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new ProfileError(`Cannot write the profiles file ${file}: ${(error as Error).message}. Check that ${dir} belongs to the user running alchemy.`, { file }, { cause: error });
  }
}

/**
 * Reads the profiles file, lets `change` edit the document, and writes it
 * back atomically. Returns what `change` returned.
 *
 * @example
 * updateProfiles(file, (doc) => { delete doc.profiles.old; });
 */
export function updateProfiles<T>(file: string, change: (doc: ProfilesDocument) => T): T {
  const doc = readProfiles(file);
  const result = change(doc);
  writeProfiles(file, doc);
  return result;
}

function checkPrivate(file: string, stat: fs.Stats): void {
  if (process.platform === "win32") return; // no POSIX modes; NTFS ACLs of the user's profile directory apply
  if (!stat.isFile()) throw new ProfileError(`The profiles file ${file} is not a regular file. Remove it and recreate profiles with \`alchemy profile set\`.`, { file });
  const loose = stat.mode & 0o077;
  if (loose !== 0) {
    throw new ProfileError(
      `The profiles file ${file} has mode ${(stat.mode & 0o777).toString(8).padStart(4, "0")}: group or other users may ${loose & 0o044 ? "read" : "write"} it. ` +
        `It holds credentials, so alchemy refuses to use it. Run \`chmod 600 ${file}\`, and rotate its secrets if someone else may have read them.`,
      { file },
    );
  }
}

function ensurePrivateDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.mkdirSync(dir, { mode: PROFILE_DIR_MODE });
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
    return;
  }
  fs.chmodSync(dir, PROFILE_DIR_MODE);
}

function fsyncDir(dir: string): void {
  if (process.platform === "win32") return;
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The kind of a JSON value, never the value itself (it may be a secret). */
function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
