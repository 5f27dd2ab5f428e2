/**
 * `alchemy.config.json`, the project's own settings: found beside the program
 * file and in `rootDir` for every run, and in the working directory for the
 * state commands (see `mapping-sources.ts`), so that a rule such as "prod only
 * with the prod profile" holds whatever the program passes as options and
 * wherever it is run from.
 *
 * ```json
 * { "stageProfileMapping": { "pr-*": ["ci"], "prod": ["prod"], "$USER": ["default"] } }
 * ```
 *
 * Unknown keys are refused rather than ignored: a misspelt
 * `stageProfileMaping` must not silently turn enforcement off.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { ProfileError } from "./profile-error.js";
import { validateStageProfileMapping, type StageProfileMapping } from "./stage-profile-mapping.js";

/** Name of the project configuration file. */
export const ALCHEMY_CONFIG_FILE = "alchemy.config.json";

/** A loaded `alchemy.config.json`. */
export interface AlchemyConfig {
  /** Absolute path of the file it was read from. */
  file: string;
  /** Which profiles may be used on which stage; see `stage-profile-mapping.ts`. */
  stageProfileMapping?: StageProfileMapping;
}

const KNOWN_KEYS = ["$schema", "stageProfileMapping"];

/**
 * Reads `alchemy.config.json` in `projectDir`.
 *
 * @returns undefined when the project has no such file.
 * @throws ProfileError naming the file (and the bad key) when it cannot be read, is not JSON, or is invalid.
 * @example
 * const config = loadAlchemyConfig(io.cwd);
 * checkStageProfile(stage, profile, config?.stageProfileMapping, { user: env.USER, source: config?.file });
 */
export function loadAlchemyConfig(projectDir: string): AlchemyConfig | undefined {
  const file = path.resolve(projectDir, ALCHEMY_CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ProfileError(`Cannot read ${file}: ${(error as Error).message}.`, { file }, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProfileError(`${file} is not valid JSON (${(error as Error).message}). Fix the file; nothing was run.`, { file }, { cause: error });
  }
  return parseAlchemyConfig(parsed, file);
}

/**
 * Validates the parsed content of an `alchemy.config.json`.
 *
 * @throws ProfileError naming `file` and the bad key.
 * @example
 * parseAlchemyConfig({ stageProfileMapping: { prod: ["prod"] } }, "/work/shop/alchemy.config.json");
 */
export function parseAlchemyConfig(value: unknown, file: string): AlchemyConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProfileError(`${file} must hold a JSON object such as { "stageProfileMapping": { "prod": ["prod"] } }. Fix the file; nothing was run.`, { file });
  }
  for (const key of Object.keys(value)) {
    if (!KNOWN_KEYS.includes(key)) {
      throw new ProfileError(`${file} has an unknown key ${JSON.stringify(key)}; the keys it may hold are ${KNOWN_KEYS.join(", ")}. Fix the file; nothing was run.`, {
        file,
        key,
      });
    }
  }
  const raw = (value as Record<string, unknown>).stageProfileMapping;
  return raw === undefined ? { file } : { file, stageProfileMapping: validateStageProfileMapping(raw, file, file) };
}
