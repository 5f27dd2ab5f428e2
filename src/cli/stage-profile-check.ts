/**
 * The profile check of the commands that read or change a stage without
 * running the program (`state list | show | export | import | rm | migrate |
 * rekey`, `stages`, `stages prune`, `unlock`): before anything of the stage
 * is read, the command's profile (`--profile`, else `$ALCHEMY_PROFILE`, else
 * `default`) must be allowed on the stage by
 *
 * - the mapping the stage's store recorded at its last deploy, wherever the
 *   command is run from and whichever `--state` or `$ALCHEMY_STATE_STORE`
 *   names the store; and
 * - `alchemy.config.json` in the working directory (after `-C`), if any.
 *
 * Only the stage's metadata is read for the check; the stage is not locked.
 *
 * @module
 */
import { configMappings, checkMappings, type SourcedMapping } from "../core/profiles/mapping-sources.js";
import { isProfileName, PROFILE_NAME_RULE } from "../core/profiles/profile-file.js";
import { ProfileError } from "../core/profiles/profile-error.js";
import { checkRecordedProfiles } from "../core/profiles/recorded-mapping.js";
import type { StageMeta, StateStore } from "../state/state-store.js";
import { describeLocation, storeFactory, type StoreLocation } from "../state/store-url.js";
import { UsageError } from "./exit-codes.js";
import type { CliIO } from "./io.js";

/** Who a command runs as, for the checks of {@link checkStageAccess}. */
export interface ProfileAccess {
  /** The command's profile. */
  profile: string;
  /** The current user (`$USER`), the stage a `$USER` key stands for. */
  user?: string;
  /** The mapping of `alchemy.config.json` in the working directory, if it has one. */
  mappings: SourcedMapping[];
}

/**
 * The profile a command runs as: `--profile`, else `$ALCHEMY_PROFILE`, else `default`.
 *
 * @throws UsageError when it is not a valid profile name, saying where it came from.
 * @example
 * resolveProfile(undefined, { ALCHEMY_PROFILE: "ci" }); // "ci"
 */
export function resolveProfile(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const [profile, from] = flag !== undefined ? [flag, "--profile"] : env.ALCHEMY_PROFILE ? [env.ALCHEMY_PROFILE, "$ALCHEMY_PROFILE"] : ["default", ""];
  if (!isProfileName(profile)) throw new UsageError(`profile ${JSON.stringify(profile)} (from ${from}) is not a valid profile name: ${PROFILE_NAME_RULE}.`);
  return profile;
}

/**
 * The command's profile and the mapping of the working directory's
 * `alchemy.config.json`, read once per command.
 *
 * @throws UsageError for an invalid profile name; ProfileError for an alchemy.config.json that cannot be used.
 * @example
 * const access = profileAccess(opts, io);
 */
export function profileAccess(opts: { profile?: string }, io: Pick<CliIO, "env" | "cwd">): ProfileAccess {
  return { profile: resolveProfile(opts.profile, io.env), user: io.env.USER, mappings: configMappings([io.cwd]) };
}

/**
 * Throws unless `access` may read and change stage `stage` of `app` in the
 * store at `location`: by the working directory's mapping, then by the one
 * the stage's store recorded (its metadata is read, nothing else).
 *
 * @returns the stage's metadata, as read for the check.
 * @throws ProfileError naming the stage, the profile, the allowed profiles and where the mapping came from.
 * @example
 * await checkStageAccess(location, "shop", "prod", profileAccess(opts, io));
 */
export async function checkStageAccess(location: StoreLocation, app: string, stage: string, access: ProfileAccess, opened?: StateStore): Promise<StageMeta | undefined> {
  checkMappings(stage, access.profile, access.mappings, { user: access.user });
  const store = opened ?? storeFactory(location)({ chain: [app, stage] });
  let meta: StageMeta | undefined;
  try {
    meta = await store.getStageMeta?.();
  } finally {
    if (!opened) await store.deinit?.(); // let go only of a store opened here
  }
  checkRecordedProfiles(stage, access.profile, meta, { user: access.user, where: describeLocation(location) });
  return meta;
}

/**
 * Like {@link checkStageAccess}, but resolves the refusal instead of
 * throwing it, for a command that goes through several stages. `opened`:
 * the stage's store, when the caller has it open already (else one is
 * opened for the check and let go of).
 *
 * @example
 * const refused = await stageAccessRefusal(location, "shop", "prod", access); // ProfileError | undefined
 */
export async function stageAccessRefusal(location: StoreLocation, app: string, stage: string, access: ProfileAccess, opened?: StateStore): Promise<ProfileError | undefined> {
  try {
    await checkStageAccess(location, app, stage, access, opened);
    return undefined;
  } catch (error) {
    if (error instanceof ProfileError) return error;
    throw error;
  }
}
