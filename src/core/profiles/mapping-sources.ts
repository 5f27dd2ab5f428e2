/**
 * Which `stageProfileMapping`s a run must satisfy, and where each one came
 * from. Mappings restrict and none overrides another: **every** mapping that
 * applies must allow the run's profile on its stage (within one mapping, the
 * most specific key decides; see `stage-profile-mapping.ts`). For a run of a
 * program they are:
 *
 * 1. the program's `stageProfileMapping` option;
 * 2. `alchemy.config.json` beside the program file (the directory of
 *    `alchemy.run.ts`), wherever the program is run from;
 * 3. `alchemy.config.json` in `rootDir` (default: the working directory),
 *    when that is another file;
 * 4. the mapping the stage's store recorded at its last deploy (see
 *    `recorded-mapping.ts`).
 *
 * A deploy records 1-3 as the stage's mapping. State commands, which run no
 * program, check 4 and `alchemy.config.json` in their working directory.
 *
 * @module
 */
import path from "node:path";
import { loadAlchemyConfig } from "./alchemy-config.js";
import { checkStageProfile, type StageProfileCheckOptions, type StageProfileMapping } from "./stage-profile-mapping.js";

/** A mapping and where it was defined. */
export interface SourcedMapping {
  /**
   * Where the mapping was defined, named in errors.
   * @example "/home/ada/shop/alchemy.config.json"
   * @example 'the options of application "shop" in /home/ada/shop/alchemy.run.ts'
   */
  source: string;
  mapping: StageProfileMapping;
}

/** What {@link programMappings} needs to know about the run. */
export interface ProgramMappingOptions {
  /** The program's own `stageProfileMapping` option, already validated. */
  stageProfileMapping?: StageProfileMapping;
  /** The run's resolved `rootDir`. */
  rootDir: string;
  /**
   * The program file that started the application, if known.
   * @default undefined: only `rootDir` is searched for `alchemy.config.json`
   */
  programFile?: string;
}

/**
 * The mappings a program's run brings (1-3 in the module documentation), in
 * that order; empty when it has none.
 *
 * @throws ProfileError naming the file of an `alchemy.config.json` that cannot be read or is invalid.
 * @example
 * programMappings("shop", { rootDir: "/tmp/x", programFile: "/home/ada/shop/alchemy.run.ts" });
 * // [{ source: "/home/ada/shop/alchemy.config.json", mapping: { prod: ["prod"] } }]
 */
export function programMappings(appName: string, options: ProgramMappingOptions): SourcedMapping[] {
  const found: SourcedMapping[] = [];
  if (options.stageProfileMapping !== undefined) {
    const where = options.programFile === undefined ? "" : ` in ${options.programFile}`;
    found.push({ source: `the options of application "${appName}"${where}`, mapping: options.stageProfileMapping });
  }
  const dirs = [options.programFile === undefined ? undefined : path.dirname(options.programFile), options.rootDir];
  return [...found, ...configMappings(dirs.filter((dir): dir is string => dir !== undefined))];
}

/**
 * The mappings of the `alchemy.config.json` files in `dirs`, each file once.
 *
 * @throws ProfileError naming the file of one that cannot be read or is invalid.
 * @example
 * configMappings([process.cwd()]);
 */
export function configMappings(dirs: readonly string[]): SourcedMapping[] {
  const found: SourcedMapping[] = [];
  for (const dir of new Set(dirs.map((d) => path.resolve(d)))) {
    const config = loadAlchemyConfig(dir);
    if (config?.stageProfileMapping !== undefined) found.push({ source: config.file, mapping: config.stageProfileMapping });
  }
  return found;
}

/**
 * Throws unless every mapping allows `profile` on `stage`, checked in order.
 *
 * @throws ProfileError of the first mapping that denies the pair, naming its source.
 * @example
 * checkMappings("prod", "ci", programMappings("shop", options), { user: process.env.USER });
 */
export function checkMappings(
  stage: string,
  profile: string,
  mappings: readonly SourcedMapping[],
  options: Omit<StageProfileCheckOptions, "source"> = {},
): void {
  for (const { source, mapping } of mappings) checkStageProfile(stage, profile, mapping, { ...options, source });
}
