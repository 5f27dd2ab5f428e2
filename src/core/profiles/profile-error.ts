/**
 * The error every part of the profile system throws: a profile file that cannot
 * be trusted or parsed, a stage/profile pair the mapping forbids, a profile or
 * provider a provider asked for that is not defined.
 *
 * Messages never contain a setting's value, only names (profile, provider,
 * setting key, stage, file), so they are safe to print and to log.
 *
 * @module
 */
import { AlchemyError } from "../errors.js";

/** What a {@link ProfileError} is about; each field is set when it applies. */
export interface ProfileErrorDetails {
  /** Absolute path of the file concerned (`profiles.json`, `alchemy.config.json`). */
  readonly file?: string;
  /** Name of the profile concerned. */
  readonly profile?: string;
  /** Stage being run, for a stage/profile pair that is not allowed. */
  readonly stage?: string;
  /** Provider that asked for credentials. */
  readonly provider?: string;
  /** Path of the bad key in its file or mapping, e.g. `profiles.ci.cloudflare.apiToken`. */
  readonly key?: string;
  /** Profiles the matching `stageProfileMapping` entry allows. */
  readonly allowed?: readonly string[];
}

/**
 * A credential profile or `stageProfileMapping` problem. The message says what
 * is wrong, where, and how to fix it.
 *
 * @example
 * throw new ProfileError(`profile "ci" is not defined in ${file}; create it with ...`, { file, profile: "ci" });
 */
export class ProfileError extends AlchemyError {
  override name = "ProfileError";
  readonly file?: string;
  readonly profile?: string;
  readonly stage?: string;
  readonly provider?: string;
  readonly key?: string;
  readonly allowed?: readonly string[];

  constructor(message: string, details: ProfileErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    Object.assign(this, details);
  }
}
