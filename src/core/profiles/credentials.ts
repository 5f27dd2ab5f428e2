/**
 * `Credentials`, the one way a provider gets its credentials: the settings the
 * active profile holds for it, unless a scope overrode them. No provider reads
 * `profiles.json` or the environment for credentials itself.
 *
 * The profiles file is read the first time a provider asks, not before: a run
 * whose providers need no credentials (files, random strings) works without
 * any profile, and a profile that is not defined is an error only when a
 * provider asks it for credentials. (`stageProfileMapping` is checked before
 * anything, separately: see `checkStageProfile`.)
 *
 * Settings are handed over as they are: the provider checks their types. Error
 * messages name profiles, providers and setting keys, never values.
 *
 * @example
 * // in a resource handler, as the engine exposes it:
 * const { accountId, apiToken } = this.credentials<{ accountId: string; apiToken: string }>("cloudflare");
 *
 * @module
 */
import { inspect } from "node:util";
import { isProviderName, isSettingKey, profilesFile, readProfiles, type ProfilesDocument } from "./profile-file.js";
import { ProfileError } from "./profile-error.js";

/** Settings a scope gives a provider instead of the profile's: any values that provider understands. */
export type CredentialOverride = Readonly<Record<string, unknown>>;

/** How to build {@link Credentials}. */
export interface CredentialsOptions {
  /** Name of the active profile (`--profile`, `ALCHEMY_PROFILE`, option `profile`). */
  profile: string;
  /** The profiles file, read on first use and named in errors (see `profilesFile(env)`). */
  file: string;
  /**
   * Reads the profiles; called at most once, when a provider first asks for
   * credentials the overrides do not give.
   * @default () => readProfiles(file)
   */
  load?: () => ProfilesDocument;
  /**
   * Settings per provider that replace the profile's for that provider.
   * @default {}
   */
  overrides?: Readonly<Record<string, CredentialOverride>>;
}

/** Options of {@link Credentials.for}. */
export interface CredentialRequest {
  /**
   * Setting keys the provider cannot work without; a missing one is a
   * `ProfileError` that says how to set it.
   * @default []
   */
  required?: readonly string[];
}

/**
 * The credentials of one run or scope: the active profile's settings per
 * provider, with a scope's overrides on top. Immutable:
 * {@link Credentials.withOverrides} returns a new instance, so that a nested
 * scope's override never leaks to its parent.
 *
 * An override replaces the profile's settings for that provider as a whole
 * (they are not merged key by key: an API token from one account and an
 * account id from another would be a wrong pair), and the profile is then not
 * consulted for that provider at all.
 *
 * @example
 * const credentials = Credentials.fromEnv("ci", process.env);
 * const pg = credentials.for<{ url: string }>("postgres", { required: ["url"] });
 * const scoped = credentials.withOverrides("postgres", { url: "postgres://localhost/test" });
 */
export class Credentials {
  /** Name of the active profile. */
  readonly profile: string;
  /** The profiles file the profile is read from. */
  readonly file: string;
  readonly #profiles: () => ProfilesDocument;
  readonly #overrides: Readonly<Record<string, CredentialOverride>>;

  constructor(options: CredentialsOptions) {
    this.profile = options.profile;
    this.file = options.file;
    this.#profiles = once(options.load ?? (() => readProfiles(options.file)));
    this.#overrides = Object.freeze({ ...validateOverrides(options.overrides ?? {}) });
  }

  /**
   * The credentials of profile `profile`, from the profiles file of `env`
   * (`$ALCHEMY_HOME/profiles.json`, default `~/.alchemy/profiles.json`).
   *
   * @example
   * Credentials.fromEnv(options.profile, process.env);
   */
  static fromEnv(profile: string, env: NodeJS.ProcessEnv, overrides?: Readonly<Record<string, CredentialOverride>>): Credentials {
    return new Credentials({ profile, file: profilesFile(env), overrides });
  }

  /**
   * The settings for `provider`: the scope's override if there is one, else
   * the active profile's. Returns a frozen copy; `T` is not checked.
   *
   * @throws ProfileError when the profile is not defined, has no settings for
   *   `provider`, or lacks a `required` key (each message says the
   *   `alchemy profile set` command that fixes it); or when the profiles file
   *   cannot be trusted or read.
   * @example
   * const { url } = credentials.for<{ url: string }>("postgres", { required: ["url"] });
   */
  for<T extends object = Record<string, unknown>>(provider: string, request: CredentialRequest = {}): T {
    const settings = this.#lookup(provider, true)!;
    for (const key of request.required ?? []) {
      if (!Object.hasOwn(settings.values, key) || settings.values[key] === undefined) {
        throw new ProfileError(
          settings.from === "override"
            ? `The credentials a scope gave provider "${provider}" have no setting "${key}", which the provider requires. Add it to the override.`
            : `Profile "${this.profile}" has no setting ${provider}.${key}, which provider "${provider}" requires. ` +
                `Set it with \`alchemy profile set ${this.profile} ${provider}.${key}=<value>\` (profiles are in ${this.file}).`,
          { profile: this.profile, provider, key: `${provider}.${key}`, file: settings.from === "override" ? undefined : this.file },
        );
      }
    }
    return Object.freeze({ ...settings.values }) as T;
  }

  /**
   * Like {@link Credentials.for}, but undefined when there are no settings for
   * `provider` (no override, and the profile is not defined or has none), for
   * providers whose credentials are optional.
   *
   * @throws ProfileError when the profiles file cannot be trusted or read.
   * @example
   * const pg = credentials.tryFor<{ url: string }>("postgres") ?? { url: "postgres://localhost/dev" };
   */
  tryFor<T extends object = Record<string, unknown>>(provider: string): T | undefined {
    const settings = this.#lookup(provider, false);
    return settings && (Object.freeze({ ...settings.values }) as T);
  }

  /**
   * Credentials in which `provider` gets `settings` instead of what the
   * profile (or an outer override) gives it; this instance is unchanged. The
   * object form overrides several providers at once.
   *
   * @example
   * const scoped = credentials.withOverrides("cloudflare", { accountId: "456", apiToken: token });
   * const many = credentials.withOverrides({ postgres: { url }, cloudflare: { accountId, apiToken } });
   */
  withOverrides(provider: string, settings: CredentialOverride): Credentials;
  withOverrides(overrides: Readonly<Record<string, CredentialOverride>>): Credentials;
  withOverrides(providerOrMap: string | Readonly<Record<string, CredentialOverride>>, settings?: CredentialOverride): Credentials {
    const added = typeof providerOrMap === "string" ? { [providerOrMap]: settings as CredentialOverride } : providerOrMap;
    return new Credentials({ profile: this.profile, file: this.file, load: this.#profiles, overrides: { ...this.#overrides, ...added } });
  }

  /** Which providers a scope overrode, for diagnostics (never their settings). */
  get overriddenProviders(): string[] {
    return Object.keys(this.#overrides);
  }

  /** Only the profile name: credentials must never end up in state or logs by accident. */
  toJSON(): { profile: string } {
    return { profile: this.profile };
  }

  [inspect.custom](): string {
    return `Credentials { profile: ${JSON.stringify(this.profile)} }`;
  }

  #lookup(provider: string, mustExist: boolean): { values: Readonly<Record<string, unknown>>; from: "override" | "profile" } | undefined {
    if (typeof provider !== "string" || !isProviderName(provider)) {
      throw new ProfileError(`${JSON.stringify(provider)} is not a valid provider name: use letters, digits, '-' and '_', starting with a letter.`, { provider });
    }
    if (Object.hasOwn(this.#overrides, provider)) return { values: this.#overrides[provider], from: "override" };
    const { profiles } = this.#profiles();
    if (!Object.hasOwn(profiles, this.profile)) {
      if (!mustExist) return undefined;
      const defined = Object.keys(profiles);
      throw new ProfileError(
        `Profile "${this.profile}" is not defined in ${this.file}, and provider "${provider}" needs credentials from it. ` +
          `Create it with \`alchemy profile set ${this.profile} ${provider}.<key>=<value>\`` +
          (defined.length > 0 ? `, or run with one of the defined profiles (${defined.join(", ")}) using --profile or ALCHEMY_PROFILE.` : "."),
        { profile: this.profile, provider, file: this.file },
      );
    }
    const profile = profiles[this.profile];
    if (!Object.hasOwn(profile, provider)) {
      if (!mustExist) return undefined;
      throw new ProfileError(
        `Profile "${this.profile}" has no settings for provider "${provider}" (profiles are in ${this.file}). ` +
          `Add them with \`alchemy profile set ${this.profile} ${provider}.<key>=<value>\`` +
          (Object.keys(profile).length > 0 ? `; it has settings for ${Object.keys(profile).join(", ")}.` : "."),
        { profile: this.profile, provider, file: this.file },
      );
    }
    return { values: profile[provider], from: "profile" };
  }
}

function validateOverrides(overrides: Readonly<Record<string, CredentialOverride>>): Readonly<Record<string, CredentialOverride>> {
  for (const [provider, settings] of Object.entries(overrides)) {
    if (!isProviderName(provider)) {
      throw new ProfileError(`Credentials override for ${JSON.stringify(provider)}: not a valid provider name (letters, digits, '-' and '_', starting with a letter).`, { provider });
    }
    if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
      throw new ProfileError(`Credentials override for provider "${provider}" must be an object of settings, such as { apiToken: ... }.`, { provider });
    }
    for (const key of Object.keys(settings)) {
      if (!isSettingKey(key)) {
        throw new ProfileError(`Credentials override for provider "${provider}" has an invalid setting key ${JSON.stringify(key)} (letters, digits, '-' and '_', starting with a letter).`, {
          provider,
          key: `${provider}.${key}`,
        });
      }
    }
  }
  return overrides;
}

function once<T>(load: () => T): () => T {
  let loaded: { value: T } | undefined;
  return () => (loaded ??= { value: load() }).value;
}
