import { describe, expect, it } from "vitest";
import { ProfileError } from "./profile-error.js";
import { checkStageProfile, globMatches, matchStage, validateStageProfileMapping, type StageProfileMapping } from "./stage-profile-mapping.js";

const seedMapping: StageProfileMapping = { "pr-*": ["ci"], prod: ["prod"], $USER: ["default"] };
const allowed = (stage: string, profile: string, mapping: StageProfileMapping | undefined = seedMapping, options: { user?: string } = { user: "alice" }) => {
  try {
    checkStageProfile(stage, profile, mapping, options);
    return true;
  } catch (error) {
    if (error instanceof ProfileError) return false;
    throw error;
  }
};
const denial = (stage: string, profile: string, mapping: StageProfileMapping, options: { user?: string; source?: string } = { user: "alice" }): ProfileError => {
  try {
    checkStageProfile(stage, profile, mapping, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ProfileError);
    return error as ProfileError;
  }
  throw new Error(`expected stage "${stage}" with profile "${profile}" to be denied`);
};

describe("the seed's mapping { pr-*: [ci], prod: [prod], $USER: [default] }", () => {
  it.each([
    // stage,    profile,   allowed?
    ["pr-123", "ci", true],
    ["pr-123", "prod", false],
    ["pr-123", "default", false],
    ["prod", "prod", true],
    ["prod", "ci", false],
    ["prod", "default", false],
    ["alice", "default", true],
    ["alice", "ci", false],
    ["bob", "ci", true], // another user's stage: no key matches
    ["staging", "anything", true],
    ["prod", "no-such-profile", false],
    ["pr-1", "unknown", false],
  ] as const)("stage %s with profile %s is allowed: %s", (stage, profile, expected) => {
    expect(allowed(stage, profile)).toBe(expected);
  });

  it("denies a run with a message naming the stage, the profile, the matching key and the allowed profiles", () => {
    const error = denial("prod", "ci", seedMapping);
    expect(error.message).toBe(
      `Profile "ci" may not be used on stage "prod": stageProfileMapping key "prod" allows only profile "prod". Nothing was read or changed. ` +
        `Run with --profile prod (or ALCHEMY_PROFILE=prod), or add "ci" to the list under "prod".`,
    );
    expect(error).toMatchObject({ stage: "prod", profile: "ci", key: "prod", allowed: ["prod"] });
  });

  it("names the glob that matched", () => {
    expect(denial("pr-7", "prod", seedMapping).message).toContain(`stage "pr-7": stageProfileMapping key "pr-*" allows only profile "ci"`);
  });

  it("says when $USER matched because the stage is the user's own", () => {
    expect(denial("alice", "ci", seedMapping).message).toContain(`stageProfileMapping key "$USER" (your own stage, "alice") allows only profile "default"`);
  });

  it("names where the mapping came from", () => {
    expect(denial("prod", "ci", seedMapping, { source: "/work/shop/alchemy.config.json" }).message).toContain(
      `stageProfileMapping (from /work/shop/alchemy.config.json) key "prod"`,
    );
  });
});

describe("$USER", () => {
  it("matches the stage named after the current user only", () => {
    const mapping = { $USER: ["default"] };
    expect(allowed("alice", "ci", mapping, { user: "alice" })).toBe(false);
    expect(allowed("alice", "ci", mapping, { user: "bob" })).toBe(true);
    expect(allowed("bob", "ci", mapping, { user: "bob" })).toBe(false);
  });

  it("matches nothing when there is no user name", () => {
    expect(allowed("alice", "ci", { $USER: ["default"] }, { user: undefined })).toBe(true);
    expect(allowed("alice", "ci", { $USER: ["default"] }, {})).toBe(true);
    expect(allowed("", "ci", { $USER: ["default"] }, { user: "" })).toBe(true);
  });

  it("is outranked by a key naming the stage, and outranks every glob", () => {
    const mapping = { "*": ["ci"], "al*": ["ci"], $USER: ["default"], alice: ["special"] };
    expect(matchStage("alice", mapping, { user: "alice" })).toEqual({ keys: ["alice"], kind: "stage", allowed: ["special"] });
    const { alice: _, ...withoutExact } = mapping;
    expect(matchStage("alice", withoutExact, { user: "alice" })).toEqual({ keys: ["$USER"], kind: "user", allowed: ["default"] });
  });
});

describe("globs", () => {
  it("treat * as any run of characters (also none) and ? as exactly one, and nothing else as special", () => {
    expect(globMatches("pr-*", "pr-")).toBe(true);
    expect(globMatches("pr-*", "pr-123")).toBe(true);
    expect(globMatches("pr-*", "xpr-1")).toBe(false);
    expect(globMatches("pr-?", "pr-1")).toBe(true);
    expect(globMatches("pr-?", "pr-12")).toBe(false);
    expect(globMatches("*-prod", "eu-prod")).toBe(true);
    expect(globMatches("v1.2", "v1x2")).toBe(false);
    expect(globMatches("*", "anything")).toBe(true);
  });

  it("are ranked by literal characters, then fewer *, and the most specific decides alone", () => {
    const mapping = { "*": ["ci", "prod"], "pr-*": ["ci"], "pr-1?": ["qa"], "pr-1": ["hotfix"] };
    expect(matchStage("pr-1", mapping)).toEqual({ keys: ["pr-1"], kind: "stage", allowed: ["hotfix"] });
    expect(matchStage("pr-12", mapping)).toEqual({ keys: ["pr-1?"], kind: "glob", allowed: ["qa"] });
    expect(matchStage("pr-2", mapping)).toEqual({ keys: ["pr-*"], kind: "glob", allowed: ["ci"] });
    expect(matchStage("main", mapping)).toEqual({ keys: ["*"], kind: "glob", allowed: ["ci", "prod"] });
    expect(allowed("pr-2", "prod", mapping)).toBe(false); // "*" would allow it, but "pr-*" decides
    // "pr-*" and "pr-?" have 3 literals each, and "pr-?" no *; "p?-*" has 2.
    expect(matchStage("pr-9", { "pr-*": ["a"], "pr-?": ["b"], "p?-*": ["c"] })?.keys).toEqual(["pr-?"]);
  });

  it("require a profile every equally specific glob allows, naming them all", () => {
    const mapping = { "eu-*": ["ci", "eu"], "*-db": ["ci", "dba"] }; // 3 literals and one * each
    expect(matchStage("eu-db", mapping)).toEqual({ keys: ["eu-*", "*-db"], kind: "glob", allowed: ["ci"] });
    expect(allowed("eu-db", "ci", mapping)).toBe(true);
    expect(allowed("eu-db", "eu", mapping)).toBe(false);
    expect(allowed("eu-db", "dba", mapping)).toBe(false);
    expect(denial("eu-db", "dba", mapping).message).toContain(`keys "eu-*" and "*-db", equally specific and all required, allow only profile "ci"`);
    expect(allowed("eu-web", "eu", mapping)).toBe(true);
    expect(allowed("us-db", "dba", mapping)).toBe(true);
  });
});

describe("checkStageProfile", () => {
  it("allows every pair without a mapping, or when no key matches the stage", () => {
    expect(checkStageProfile("prod", "anything", undefined)).toBeUndefined();
    expect(checkStageProfile("prod", "anything", {})).toBeUndefined();
    expect(checkStageProfile("staging", "anything", { prod: ["prod"] })).toBeUndefined();
  });

  it("returns the deciding entry when the pair is allowed", () => {
    expect(checkStageProfile("pr-4", "ci", seedMapping, { user: "alice" })).toEqual({ keys: ["pr-*"], kind: "glob", allowed: ["ci"] });
  });

  it("denies every profile on a stage whose key lists none", () => {
    const error = denial("frozen", "prod", { frozen: [] });
    expect(error.message).toContain(`key "frozen" allows no profile`);
    expect(error.allowed).toEqual([]);
  });

  it("lists every allowed profile", () => {
    expect(denial("prod", "ci", { prod: ["prod", "breakglass"] }).message).toContain(`allows only profiles "prod", "breakglass"`);
  });
});

describe("validateStageProfileMapping", () => {
  it.each([
    [[], undefined, "expected an object"],
    [{ prod: "prod" }, "prod", `expected a list of profile names such as ["ci"], got a string`],
    [{ prod: [1] }, "prod", "1 is not a valid profile name"],
    [{ prod: ["../x"] }, "prod", `"../x" is not a valid profile name`],
    [{ "pr-[0-9]": ["ci"] }, "pr-[0-9]", "'*' (any characters) and '?' (one character) as the only wildcards"],
    [{ "$USER-*": ["ci"] }, "$USER-*", `"$" is only allowed as the whole key "$USER"`],
    [{ "": ["ci"] }, "", "a key is a stage name or a glob"],
  ])("rejects %j, naming the key", (mapping, key, problem) => {
    try {
      validateStageProfileMapping(mapping, "/work/shop/alchemy.config.json");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProfileError);
      const message = (error as ProfileError).message;
      expect(message).toContain("stageProfileMapping (from /work/shop/alchemy.config.json) is invalid");
      if (key !== undefined) expect(message).toContain(`at key ${JSON.stringify(key)}`);
      expect(message).toContain(problem);
    }
  });

  it("is applied by checkStageProfile before matching", () => {
    expect(() => checkStageProfile("staging", "ci", { prod: "prod" } as never)).toThrow(`stageProfileMapping is invalid at key "prod"`);
  });
});
