/**
 * `stageProfileMapping`: which credential profiles may be used on which
 * stage, checked before a run loads any credential or state.
 *
 * ```ts
 * { "pr-*": ["ci"], "prod": ["prod"], "$USER": ["default"] }
 * ```
 *
 * Keys are stage names, globs, or `$USER`:
 * - a **stage name** (`prod`) matches that stage only;
 * - a **glob** matches stage names, `*` standing for any run of characters
 *   (also none) and `?` for exactly one; no other character is special;
 * - **`$USER`** matches the current user's own stage, the stage named after
 *   the user (`$USER`, the default stage of a local run). Without a user name
 *   it matches nothing.
 *
 * **Precedence.** The most specific key that matches the stage decides, and
 * only it: a stage name first, then `$USER`, then the glob with the most
 * literal (non-wildcard) characters, then, between globs with as many, the one
 * with fewer `*`. Globs that are still tied must all allow the profile. So with
 * `{ "*": ["ci", "prod"], "pr-*": ["ci"], "pr-1": ["qa"] }`, stage `pr-1` takes
 * only `qa`, `pr-2` only `ci`, and `main` either `ci` or `prod`.
 *
 * A stage no key matches may be used with any profile. A profile a key does
 * not list is denied on the stages that key decides, whether or not the
 * profile is defined anywhere.
 *
 * @module
 */
import { isProfileName, PROFILE_NAME_RULE } from "./profile-file.js";
import { ProfileError } from "./profile-error.js";

/** Stage name, glob or `$USER` -> the profiles allowed on the stages it matches. */
export type StageProfileMapping = Readonly<Record<string, readonly string[]>>;

/** The key that stands for the current user's stage. */
export const USER_KEY = "$USER";

const KEY_CHARS = /^[A-Za-z0-9_.*?-]+$/;

/** How a mapping key matched a stage. */
export type MappingKeyKind = "stage" | "user" | "glob";

/** The mapping entry (or tied glob entries) that decides a stage. */
export interface StageProfileMatch {
  /** The deciding keys: one, or several equally specific globs. */
  keys: string[];
  kind: MappingKeyKind;
  /** Profiles allowed on the stage: those every deciding key lists. */
  allowed: string[];
}

/** Options of {@link checkStageProfile} and {@link matchStage}. */
export interface StageProfileCheckOptions {
  /**
   * The current user's name, which is the stage `$USER` stands for.
   * @default undefined: `$USER` matches no stage
   */
  user?: string;
  /**
   * Where the mapping was defined, named in errors.
   * @default undefined: errors say "stageProfileMapping" only
   * @example "/work/shop/alchemy.config.json"
   * @example 'the options of application "shop"'
   */
  source?: string;
  /**
   * How to let another profile in, said after "Run with --profile <allowed>"
   * in the error (alone when the key allows no profile).
   * @default 'or add "<profile>" to the list under <key>'
   */
  howToChange?: string;
}

/**
 * Checks that `value` is a valid mapping and returns a copy of it.
 *
 * @param source where the mapping was defined, named in errors (see {@link StageProfileCheckOptions.source}).
 * @param file the file it was read from, if any, recorded on the error.
 * @throws ProfileError naming the source and the bad key.
 * @example
 * validateStageProfileMapping(options.stageProfileMapping, 'the options of application "shop"');
 */
export function validateStageProfileMapping(value: unknown, source?: string, file?: string): StageProfileMapping {
  const bad = (key: string | undefined, problem: string) =>
    new ProfileError(`${describeSource(source)} is invalid${key === undefined ? "" : ` at key ${JSON.stringify(key)}`}: ${problem}.`, { key, file });
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw bad(undefined, `expected an object such as { "pr-*": ["ci"], "prod": ["prod"], "$USER": ["default"] }`);
  }
  const mapping: Record<string, readonly string[]> = {};
  for (const [key, profiles] of Object.entries(value)) {
    if (key !== USER_KEY && !KEY_CHARS.test(key)) {
      throw bad(
        key,
        key.includes("$")
          ? `"$" is only allowed as the whole key "$USER"`
          : "a key is a stage name or a glob of letters, digits, '-', '_', '.', with '*' (any characters) and '?' (one character) as the only wildcards",
      );
    }
    if (!Array.isArray(profiles)) throw bad(key, `expected a list of profile names such as ["ci"], got ${typeof profiles === "string" ? "a string" : JSON.stringify(profiles)}`);
    for (const profile of profiles) {
      if (typeof profile !== "string" || !isProfileName(profile)) {
        throw bad(key, `${JSON.stringify(profile)} is not a valid profile name (${PROFILE_NAME_RULE})`);
      }
    }
    mapping[key] = [...profiles];
  }
  return mapping;
}

/**
 * The entry of `mapping` that decides `stage` (see the precedence in the
 * module documentation), or undefined when no key matches.
 *
 * @example
 * matchStage("pr-12", { "pr-*": ["ci"], "*": ["prod"] }); // { keys: ["pr-*"], kind: "glob", allowed: ["ci"] }
 */
export function matchStage(stage: string, mapping: StageProfileMapping, options: StageProfileCheckOptions = {}): StageProfileMatch | undefined {
  const { user } = options;
  if (Object.hasOwn(mapping, stage) && !isGlob(stage)) return { keys: [stage], kind: "stage", allowed: [...mapping[stage]] };
  if (user !== undefined && user !== "" && stage === user && Object.hasOwn(mapping, USER_KEY)) {
    return { keys: [USER_KEY], kind: "user", allowed: [...mapping[USER_KEY]] };
  }
  let best: { keys: string[]; literals: number; stars: number } | undefined;
  for (const key of Object.keys(mapping)) {
    if (key === USER_KEY || !isGlob(key) || !globMatches(key, stage)) continue;
    const stars = countOf(key, "*");
    const literals = key.length - stars - countOf(key, "?");
    const order = best === undefined ? 1 : literals - best.literals || best.stars - stars;
    if (order > 0) best = { keys: [key], literals, stars };
    else if (order === 0) best!.keys.push(key);
  }
  if (best === undefined) return undefined;
  const allowed = best.keys.map((key) => mapping[key]).reduce((all, next) => all.filter((p) => next.includes(p)));
  return { keys: best.keys, kind: "glob", allowed: [...new Set(allowed)] };
}

/**
 * Throws unless `mapping` allows `profile` on `stage`. Pure: reads no file,
 * profile or state, so a run calls it before anything else. An undefined
 * mapping, or a stage no key matches, allows every profile.
 *
 * @returns the deciding entry, or undefined when no key matched.
 * @throws ProfileError naming the stage, the profile, the deciding key(s), the
 *   allowed profiles and the fix; or naming the bad key of an invalid mapping.
 * @example
 * checkStageProfile("prod", "ci", { "prod": ["prod"] }, { user: env.USER });
 * // ProfileError: Profile "ci" may not be used on stage "prod": stageProfileMapping key "prod" allows only profile "prod". ...
 */
export function checkStageProfile(
  stage: string,
  profile: string,
  mapping: StageProfileMapping | undefined,
  options: StageProfileCheckOptions = {},
): StageProfileMatch | undefined {
  if (mapping === undefined) return undefined;
  const source = describeSource(options.source);
  const match = matchStage(stage, validateStageProfileMapping(mapping, options.source), options);
  if (match === undefined || match.allowed.includes(profile)) return match;
  const keys = match.keys.map((key) => JSON.stringify(key)).join(" and ");
  const why =
    match.kind === "user"
      ? `${source} key "$USER" (your own stage, "${stage}")`
      : `${source} ${match.keys.length > 1 ? `keys ${keys}, equally specific and all required,` : `key ${keys}`}`;
  const verb = match.keys.length > 1 ? "allow" : "allows";
  const allowed =
    match.allowed.length === 0
      ? `${verb} no profile`
      : `${verb} only ${match.allowed.length === 1 ? "profile" : "profiles"} ${match.allowed.map((p) => JSON.stringify(p)).join(", ")}`;
  const change = options.howToChange;
  const fix =
    match.allowed.length === 0
      ? (change ?? `Add a profile to the list under ${keys} if this stage should be deployable.`)
      : `Run with --profile ${match.allowed[0]} (or ALCHEMY_PROFILE=${match.allowed[0]})` +
        (change === undefined ? `, or add "${profile}" to the list under ${keys}.` : `. ${change}`);
  throw new ProfileError(`Profile "${profile}" may not be used on stage "${stage}": ${why} ${allowed}. Nothing was read or changed. ${fix}`, {
    stage,
    profile,
    key: match.keys[0],
    allowed: match.allowed,
  });
}

/**
 * Whether the glob `pattern` (`*` any characters, `?` one) matches all of `name`.
 *
 * @example
 * globMatches("pr-*", "pr-12"); // true
 * globMatches("pr-?", "pr-12"); // false
 */
export function globMatches(pattern: string, name: string): boolean {
  const source = [...pattern].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.\\^$|+(){}[\]]/g, "\\$&"))).join("");
  return new RegExp(`^${source}$`, "s").test(name);
}

function isGlob(key: string): boolean {
  return key.includes("*") || key.includes("?");
}

function countOf(text: string, char: string): number {
  return text.split(char).length - 1;
}

function describeSource(source: string | undefined): string {
  return source === undefined ? "stageProfileMapping" : `stageProfileMapping (from ${source})`;
}
