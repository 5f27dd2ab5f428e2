/**
 * The stage-profile mapping a stage's store remembers: a deploy records the
 * mappings of its program (the option and the `alchemy.config.json` files
 * found for it) in the `profiles` entry of the stage's metadata, and every
 * later run and state command checks the profile against them first, whatever
 * program, directory or store URL it comes from.
 *
 * ```json
 * { "profiles": { "recordedAt": "2026-05-04T10:00:00.000Z",
 *                 "mappings": [{ "source": "/home/ada/shop/alchemy.config.json", "mapping": { "prod": ["prod"] } }] } }
 * ```
 *
 * **Changing the mapping.** A deploy is checked against the recorded mapping
 * before it records its own, so a program that drops or loosens the mapping
 * changes it only when deployed with a profile the recorded mapping allows:
 * profile `ci` cannot lift `prod`'s restriction by deploying a copy of the
 * program without it. A deploy with an allowed profile of a program without
 * any mapping removes the entry.
 *
 * An entry that is not a valid record is refused, never skipped: a damaged
 * entry must not turn the check off.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { StageMeta, StateStore } from "../../state/state-store.js";
import { checkMappings, type SourcedMapping } from "./mapping-sources.js";
import { ProfileError } from "./profile-error.js";
import { validateStageProfileMapping } from "./stage-profile-mapping.js";

/** The top-level key of the stage metadata this feature owns. */
export const RECORDED_PROFILES_KEY = "profiles";

/** The `profiles` entry of a stage's metadata. */
export interface RecordedProfiles {
  /** When a deploy last changed the entry (ISO 8601). */
  recordedAt: string;
  /** The mappings that deploy ran under, each with where it was defined; all apply. */
  mappings: SourcedMapping[];
}

/** Options of the checks against a recorded mapping. */
export interface RecordedCheckOptions {
  /** The current user's name, the stage `$USER` stands for. */
  user?: string;
  /**
   * Where the stage is kept, named in errors.
   * @default undefined: errors say "the stage's metadata"
   * @example "/home/ada/shop/.alchemy"
   */
  where?: string;
}

const HOW_TO_CHANGE = "To change which profiles may use the stage, deploy the new mapping with a profile the recorded one allows: that deploy records it.";

/**
 * The recorded mappings of a stage's metadata, or `undefined` when it has none.
 *
 * @throws ProfileError when the entry is not a valid record, naming the stage and how to repair it.
 * @example
 * recordedProfilesOf(await store.getStageMeta(), "prod");
 */
export function recordedProfilesOf(meta: StageMeta | undefined, stage: string, where?: string): RecordedProfiles | undefined {
  const entry = meta?.[RECORDED_PROFILES_KEY];
  if (entry === undefined) return undefined;
  const bad = (problem: string, cause?: unknown) =>
    new ProfileError(
      `The metadata of stage "${stage}"${where === undefined ? "" : ` in ${where}`} holds a "${RECORDED_PROFILES_KEY}" entry that is not a recorded stageProfileMapping: ${problem}. ` +
        `Nothing was read or changed. Restore the stage's metadata from a backup, or remove that entry (any profile may then use the stage until a deploy records its mapping again).`,
      { stage },
      cause === undefined ? undefined : { cause },
    );
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw bad("expected an object");
  const { recordedAt, mappings } = entry as Partial<RecordedProfiles>;
  if (typeof recordedAt !== "string" || !Array.isArray(mappings)) throw bad("expected { recordedAt, mappings }");
  return {
    recordedAt,
    mappings: mappings.map((item, i) => {
      const { source, mapping } = (item ?? {}) as Partial<SourcedMapping>;
      if (typeof source !== "string") throw bad(`mappings[${i}] has no source`);
      try {
        return { source, mapping: validateStageProfileMapping(mapping, source) };
      } catch (error) {
        throw bad(`mappings[${i}]: ${(error as Error).message.replace(/\.$/, "")}`, error);
      }
    }),
  };
}

/**
 * Throws unless every mapping recorded in `meta` allows `profile` on `stage`.
 *
 * @throws ProfileError naming the stage, the profile, the allowed profiles,
 *   where the mapping was defined and that the stage recorded it.
 * @example
 * checkRecordedProfiles("prod", "ci", meta, { user: env.USER, where: "/home/ada/shop/.alchemy" });
 * // ProfileError: Profile "ci" may not be used on stage "prod": stageProfileMapping (from /home/ada/shop/alchemy.config.json,
 * //   as the stage's last deploy recorded it in /home/ada/shop/.alchemy) key "prod" allows only profile "prod". ...
 */
export function checkRecordedProfiles(stage: string, profile: string, meta: StageMeta | undefined, options: RecordedCheckOptions = {}): void {
  const recorded = recordedProfilesOf(meta, stage, options.where);
  if (recorded === undefined) return;
  const where = options.where === undefined ? "" : ` in ${options.where}`;
  const mappings = recorded.mappings.map(({ source, mapping }) => ({ source: `${source}, as the stage's last deploy recorded it${where}`, mapping }));
  checkMappings(stage, profile, mappings, { user: options.user, howToChange: HOW_TO_CHANGE });
}

/**
 * Reads the stage's metadata from its store (nothing else; the store need
 * not be initialised) and checks `profile` against the recorded mapping.
 * A store without stage metadata records no mapping.
 *
 * @returns the metadata read.
 * @throws ProfileError when the recorded mapping denies the pair or is damaged.
 * @example
 * await checkStageStore(factory({ chain: ["shop", "prod"] }), "prod", "ci", { user: env.USER });
 */
export async function checkStageStore(stageStore: StateStore, stage: string, profile: string, options: RecordedCheckOptions = {}): Promise<StageMeta | undefined> {
  const meta = await stageStore.getStageMeta?.();
  checkRecordedProfiles(stage, profile, meta, options);
  return meta;
}

/**
 * Records `mappings` as the stage's mapping, replacing the recorded one
 * (none left when `mappings` is empty); writes only when they differ. Call it
 * under the stage's lock: the recorded mapping is read and checked again
 * first, so a deploy whose profile it denies changes nothing.
 *
 * @throws ProfileError when the recorded mapping denies `profile`.
 * @example
 * await recordStageProfiles(app.stage.store, "prod", "prod", programMappings("shop", options));
 */
export async function recordStageProfiles(
  stageStore: StateStore,
  stage: string,
  profile: string,
  mappings: readonly SourcedMapping[],
  options: RecordedCheckOptions = {},
): Promise<void> {
  if (!stageStore.getStageMeta || !stageStore.setStageMeta) return;
  const meta = await checkStageStore(stageStore, stage, profile, options);
  const recorded = recordedProfilesOf(meta, stage, options.where);
  const wanted = mappings.map(({ source, mapping }) => ({ source, mapping: { ...mapping } }));
  if (isDeepStrictEqual(recorded?.mappings ?? [], wanted)) return;
  const { [RECORDED_PROFILES_KEY]: _previous, ...rest } = meta ?? {};
  const entry: RecordedProfiles = { recordedAt: new Date().toISOString(), mappings: wanted };
  await stageStore.setStageMeta(wanted.length === 0 ? rest : { ...rest, [RECORDED_PROFILES_KEY]: entry });
}
