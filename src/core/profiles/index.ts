/**
 * Credential profiles: named credential sets in `$ALCHEMY_HOME/profiles.json`,
 * the `Credentials` API providers get them through, `stageProfileMapping`
 * (which profiles may be used on which stage) and the project's
 * `alchemy.config.json`.
 *
 * How a run uses them, in order:
 * 1. `checkMappings(stage, profile, programMappings(...))` for the program's
 *    mapping and the `alchemy.config.json` beside the program and in
 *    `rootDir`, then `checkStageStore` for the mapping the stage recorded,
 *    before any credential or state is read; a deploy then records its
 *    mappings with `recordStageProfiles`;
 * 2. `Credentials.fromEnv(profile, env)` for the run, `withOverrides` per scope;
 * 3. providers call `credentials.for(provider)`, which reads the profile file
 *    the first time one asks.
 *
 * @module
 */
export { ALCHEMY_CONFIG_FILE, loadAlchemyConfig, parseAlchemyConfig, type AlchemyConfig } from "./alchemy-config.js";
export { callingProgramFile } from "./calling-program.js";
export { checkMappings, configMappings, programMappings, type ProgramMappingOptions, type SourcedMapping } from "./mapping-sources.js";
export {
  checkRecordedProfiles,
  checkStageStore,
  RECORDED_PROFILES_KEY,
  recordedProfilesOf,
  recordStageProfiles,
  type RecordedCheckOptions,
  type RecordedProfiles,
} from "./recorded-mapping.js";
export { Credentials, type CredentialOverride, type CredentialRequest, type CredentialsOptions } from "./credentials.js";
export { ProfileError, type ProfileErrorDetails } from "./profile-error.js";
export {
  alchemyHome,
  isProfileName,
  isProviderName,
  isSettingKey,
  PROFILE_DIR_MODE,
  PROFILE_FILE_MODE,
  PROFILES_FILE_NAME,
  profilesFile,
  readProfiles,
  updateProfiles,
  validateProfiles,
  writeProfiles,
  type Profile,
  type ProfilesDocument,
  type ProviderSettings,
  type SettingValue,
} from "./profile-file.js";
export { isSecretKey, maskSecret, redactSetting, redactSettings, redactUrl } from "./redact.js";
export {
  checkStageProfile,
  globMatches,
  matchStage,
  USER_KEY,
  validateStageProfileMapping,
  type MappingKeyKind,
  type StageProfileCheckOptions,
  type StageProfileMapping,
  type StageProfileMatch,
} from "./stage-profile-mapping.js";
