/**
 * `alchemy profile set | show | list | rm`: manage the credential profiles in
 * `$ALCHEMY_HOME/profiles.json` (default `~/.alchemy/profiles.json`). Secret
 * values are never printed: `show` masks them (see `core/profiles/redact.ts`),
 * and no message quotes a value given on the command line.
 *
 * @module
 */
import {
  IDENTIFIER_RULE,
  isProfileName,
  isProviderName,
  isSettingKey,
  PROFILE_NAME_RULE,
  profilesFile,
  readProfiles,
  updateProfiles,
  type Profile,
} from "../../core/profiles/profile-file.js";
import { ProfileError } from "../../core/profiles/profile-error.js";
import { redactSettings } from "../../core/profiles/redact.js";
import { EXIT, runCommandBody, UsageError } from "../exit-codes.js";
import type { CliIO } from "../io.js";

/** Help text for `alchemy profile --help`, after the list of subcommands. */
export const PROFILE_HELP = `
Profiles are named credential sets kept in $ALCHEMY_HOME/profiles.json
(default ~/.alchemy/profiles.json, mode 0600), outside every project. A run uses
the profile named by --profile, else $ALCHEMY_PROFILE, else "default".

  alchemy profile set ci cloudflare.accountId=123 cloudflare.apiToken=-   # "-": read the value from stdin
  alchemy profile set ci postgres.url=postgres://ci:pw@db/app
  alchemy profile set ci cloudflare.apiToken=                             # empty value: remove the setting
  alchemy profile show ci          # secrets masked: apiToken: ****(40 chars), postgres://ci:****@db/app
  alchemy profile list
  alchemy profile rm ci

A value typed on the command line stays in your shell history; give secrets as "-" and pipe them in.
`;

/** One element of `alchemy profile list --json`. */
export interface ProfileListEntry {
  name: string;
  /** Providers the profile has settings for, sorted. */
  providers: string[];
}

/**
 * `alchemy profile set <name> <provider>.<key>=<value>...`: creates the
 * profile or updates it, one setting per assignment. An empty value removes
 * the setting (and a provider left without settings); the value `-` is read
 * from stdin (one assignment at most), so that a secret stays out of the
 * shell history. Prints the keys set, never the values.
 *
 * @throws UsageError (exit 2) for an invalid profile name or a malformed
 *   assignment; the message never repeats the assignment's value.
 * @example
 * await profileSet("ci", ["cloudflare.accountId=123", "cloudflare.apiToken=abc"], processIO()); // 0
 */
export async function profileSet(name: string, assignments: string[], io: CliIO): Promise<number> {
  checkProfileName(name);
  if (assignments.length === 0) {
    throw new UsageError(`alchemy profile set ${name} needs at least one <provider>.<key>=<value>, e.g. cloudflare.accountId=123.`);
  }
  const parsed = assignments.map(parseAssignment);
  const seen = new Set<string>();
  for (const { provider, key } of parsed) {
    const path = `${provider}.${key}`;
    if (seen.has(path)) throw new UsageError(`${path} is assigned twice; give each setting once.`);
    seen.add(path);
  }
  const fromStdin = parsed.filter((a) => a.value === "-");
  if (fromStdin.length > 1) throw new UsageError(`Only one value can be read from stdin ("-"); ${fromStdin.map((a) => `${a.provider}.${a.key}`).join(" and ")} both ask for it.`);
  return runCommandBody(io, async () => {
    if (fromStdin.length === 1) fromStdin[0].value = await readStdinValue(io, `${fromStdin[0].provider}.${fromStdin[0].key}`);
    const file = profilesFile(io.env);
    const created = updateProfiles(file, (doc) => {
      const isNew = !Object.hasOwn(doc.profiles, name);
      if (isNew && parsed.every((a) => a.value === "")) {
        throw new ProfileError(`Profile "${name}" is not defined in ${file}, so it has no setting to remove.`, { file, profile: name });
      }
      const profile: Profile = isNew ? {} : doc.profiles[name];
      for (const { provider, key, value } of parsed) {
        if (value === "") {
          if (Object.hasOwn(profile, provider)) delete profile[provider][key];
          if (Object.hasOwn(profile, provider) && Object.keys(profile[provider]).length === 0) delete profile[provider];
        } else {
          profile[provider] = { ...(Object.hasOwn(profile, provider) ? profile[provider] : {}), [key]: value };
        }
      }
      doc.profiles[name] = profile;
      return isNew;
    });
    const set = parsed.filter((a) => a.value !== "").map((a) => `${a.provider}.${a.key}`);
    const removed = parsed.filter((a) => a.value === "").map((a) => `${a.provider}.${a.key}`);
    const parts = [set.length > 0 ? `set ${set.join(", ")}` : "", removed.length > 0 ? `removed ${removed.join(", ")}` : ""].filter(Boolean);
    io.stdout.write(`${created ? "Created" : "Updated"} profile "${name}" in ${file}: ${parts.join("; ")}.\n`);
    return EXIT.ok;
  });
}

/**
 * `alchemy profile show <name>`: the profile's settings per provider, secret
 * values masked (`apiToken: ****(40 chars)`, `postgres://u:****@host/db`).
 * Exit 1 when the profile is not defined.
 *
 * @example
 * await profileShow("ci", { json: false }, processIO());
 * // Profile "ci" (/home/ada/.alchemy/profiles.json)
 * //   cloudflare
 * //     accountId: 123
 * //     apiToken: ****(3 chars)
 */
export async function profileShow(name: string, opts: { json: boolean }, io: CliIO): Promise<number> {
  checkProfileName(name);
  return runCommandBody(io, async () => {
    const file = profilesFile(io.env);
    const { profiles } = readProfiles(file);
    if (!Object.hasOwn(profiles, name)) return notDefined(name, file, Object.keys(profiles), io);
    const providers = Object.keys(profiles[name]).sort();
    const settings: Record<string, Record<string, string>> = {};
    for (const provider of providers) settings[provider] = sortKeys(redactSettings(profiles[name][provider]));
    if (opts.json) {
      io.stdout.write(`${JSON.stringify({ profile: name, file, settings }, null, 2)}\n`);
      return EXIT.ok;
    }
    const lines = [`Profile "${name}" (${file})`];
    if (providers.length === 0) lines.push("  (no settings)");
    for (const provider of providers) {
      lines.push(`  ${provider}`);
      for (const [key, value] of Object.entries(settings[provider])) lines.push(`    ${key}: ${value}`);
    }
    io.stdout.write(`${lines.join("\n")}\n`);
    return EXIT.ok;
  });
}

/**
 * `alchemy profile list`: every profile, with the providers it has settings
 * for (no setting is shown).
 *
 * @example
 * await profileList({ json: false }, processIO());
 * // ci       cloudflare, postgres
 * // default  postgres
 */
export async function profileList(opts: { json: boolean }, io: CliIO): Promise<number> {
  return runCommandBody(io, async () => {
    const file = profilesFile(io.env);
    const { profiles } = readProfiles(file);
    const entries: ProfileListEntry[] = Object.keys(profiles)
      .sort()
      .map((name) => ({ name, providers: Object.keys(profiles[name]).sort() }));
    if (opts.json) {
      io.stdout.write(`${JSON.stringify({ file, profiles: entries }, null, 2)}\n`);
      return EXIT.ok;
    }
    if (entries.length === 0) {
      io.stderr.write(`No profiles in ${file}. Create one with \`alchemy profile set <name> <provider>.<key>=<value>\`.\n`);
      return EXIT.ok;
    }
    const width = Math.max(...entries.map((e) => e.name.length));
    for (const entry of entries) {
      io.stdout.write(`${entry.name.padEnd(width)}  ${entry.providers.length > 0 ? entry.providers.join(", ") : "(no settings)"}\n`);
    }
    return EXIT.ok;
  });
}

/**
 * `alchemy profile rm <name>`: deletes the profile and every setting in it.
 * Exit 1 when the profile is not defined.
 *
 * @example
 * await profileRm("old-ci", processIO()); // 0
 */
export async function profileRm(name: string, io: CliIO): Promise<number> {
  checkProfileName(name);
  return runCommandBody(io, async () => {
    const file = profilesFile(io.env);
    const { profiles } = readProfiles(file);
    if (!Object.hasOwn(profiles, name)) return notDefined(name, file, Object.keys(profiles), io);
    updateProfiles(file, (doc) => {
      delete doc.profiles[name];
    });
    io.stdout.write(`Removed profile "${name}" from ${file}.\n`);
    return EXIT.ok;
  });
}

interface Assignment {
  provider: string;
  key: string;
  value: string;
}

/**
 * `provider.key=value`. Errors name the argument's position, never any of its
 * text: a malformed argument may well be a pasted secret (a base64 token ends
 * in "=", a JWT holds dots).
 */
function parseAssignment(text: string, index: number): Assignment {
  const malformed = (problem: string) =>
    new UsageError(
      `Argument ${index + 1} after the profile name is not <provider>.<key>=<value>: ${problem}. ` +
        "Write e.g. cloudflare.accountId=123, or cloudflare.apiToken=- to read the value from stdin. (The argument is not repeated here in case it holds a secret.)",
    );
  const eq = text.indexOf("=");
  if (eq === -1) throw malformed('it has no "="');
  const target = text.slice(0, eq);
  const dot = target.indexOf(".");
  if (dot === -1) throw malformed('the part before "=" has no "." between provider and key');
  const provider = target.slice(0, dot);
  const key = target.slice(dot + 1);
  if (!isProviderName(provider)) throw malformed(`the provider name is not valid (${IDENTIFIER_RULE})`);
  if (!isSettingKey(key)) throw malformed(`the setting key after the provider is not valid (${IDENTIFIER_RULE}; no further ".")`);
  return { provider, key, value: text.slice(eq + 1) };
}

function checkProfileName(name: string): void {
  if (!isProfileName(name)) throw new UsageError(`${JSON.stringify(name)} is not a valid profile name: use ${PROFILE_NAME_RULE}.`);
}

async function readStdinValue(io: CliIO, target: string): Promise<string> {
  if (io.stdin.isTTY) io.stderr.write(`Value for ${target} (end with Ctrl-D): `);
  let text = "";
  io.stdin.setEncoding("utf8");
  for await (const chunk of io.stdin) text += chunk as string;
  const value = text.replace(/\r?\n$/, "");
  if (value === "") throw new UsageError(`${target}=- reads the value from stdin, but stdin was empty. Pipe the value in, e.g. \`printenv TOKEN | alchemy profile set ...\`.`);
  return value;
}

function notDefined(name: string, file: string, defined: string[], io: CliIO): number {
  io.stderr.write(
    `error: Profile "${name}" is not defined in ${file}` +
      (defined.length > 0 ? ` (defined: ${defined.sort().join(", ")}).\n` : `, which holds no profiles. Create it with \`alchemy profile set ${name} <provider>.<key>=<value>\`.\n`),
  );
  return EXIT.failed;
}

function sortKeys(settings: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b)));
}
