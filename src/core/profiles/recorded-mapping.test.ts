import { describe, expect, it } from "vitest";
import { createMemoryStateTree, MemoryStateStore } from "../../state/memory/memory-state-store.js";
import { ProfileError } from "./profile-error.js";
import { checkRecordedProfiles, recordedProfilesOf, recordStageProfiles } from "./recorded-mapping.js";

const PROD_ONLY = [{ source: "/home/ada/shop/alchemy.config.json", mapping: { prod: ["prod"] } }];
const stageStore = () => new MemoryStateStore({ chain: ["shop", "prod"] }, { tree: createMemoryStateTree() });

describe("recordedProfilesOf", () => {
  it("is undefined for a stage without a recorded mapping", () => {
    expect(recordedProfilesOf(undefined, "prod")).toBeUndefined();
    expect(recordedProfilesOf({ lastDeploy: {} }, "prod")).toBeUndefined();
  });

  it.each([
    ["not an object", "prod-only", "expected an object"],
    ["without recordedAt", { mappings: [] }, "expected { recordedAt, mappings }"],
    ["with a mapping without source", { recordedAt: "t", mappings: [{ mapping: {} }] }, "mappings[0] has no source"],
    ["with an invalid mapping", { recordedAt: "t", mappings: [{ source: "s", mapping: { prod: "prod" } }] }, `mappings[0]: stageProfileMapping (from s) is invalid at key "prod": expected a list of profile names such as ["ci"], got a string`],
  ])("refuses an entry %s rather than skipping the check", (_what, entry, problem) => {
    const read = () => recordedProfilesOf({ profiles: entry }, "prod", "/srv/state");
    expect(read).toThrow(ProfileError);
    expect(read).toThrow(
      `The metadata of stage "prod" in /srv/state holds a "profiles" entry that is not a recorded stageProfileMapping: ${problem}. Nothing was read or changed. ` +
        `Restore the stage's metadata from a backup, or remove that entry (any profile may then use the stage until a deploy records its mapping again).`,
    );
  });
});

describe("checkRecordedProfiles", () => {
  it("reads $USER as the user running the check", () => {
    const meta = { profiles: { recordedAt: "t", mappings: [{ source: "s", mapping: { $USER: ["default"] } }] } };
    expect(() => checkRecordedProfiles("ada", "ci", meta, { user: "ada" })).toThrow(`key "$USER" (your own stage, "ada") allows only profile "default"`);
    expect(() => checkRecordedProfiles("ada", "ci", meta, { user: "bob" })).not.toThrow();
  });
});

describe("recordStageProfiles", () => {
  it("keeps the other entries of the stage's metadata, writes only a change, and removes the entry for no mapping", async () => {
    const store = stageStore();
    await store.setStageMeta({ lastDeploy: { at: "t" } });
    await recordStageProfiles(store, "prod", "prod", PROD_ONLY);
    const first = await store.getStageMeta();
    expect(first).toEqual({ lastDeploy: { at: "t" }, profiles: { recordedAt: expect.any(String), mappings: PROD_ONLY } });
    await recordStageProfiles(store, "prod", "prod", PROD_ONLY.map((m) => ({ ...m, mapping: { ...m.mapping } })));
    expect(await store.getStageMeta()).toEqual(first);
    await recordStageProfiles(store, "prod", "prod", []);
    expect(await store.getStageMeta()).toEqual({ lastDeploy: { at: "t" } });
  });

  it("changes nothing for a profile the recorded mapping denies", async () => {
    const store = stageStore();
    await recordStageProfiles(store, "prod", "prod", PROD_ONLY);
    const before = await store.getStageMeta();
    await expect(recordStageProfiles(store, "prod", "ci", [])).rejects.toThrow(`Profile "ci" may not be used on stage "prod"`);
    expect(await store.getStageMeta()).toEqual(before);
  });
});
