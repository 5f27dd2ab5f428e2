import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadAlchemyConfig } from "./alchemy-config.js";
import { ProfileError } from "./profile-error.js";
import { checkStageProfile } from "./stage-profile-mapping.js";

let project = "";
let file = "";
beforeEach(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-config-"));
  file = path.join(project, "alchemy.config.json");
});
afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

const write = (value: unknown) => fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));

describe("loadAlchemyConfig", () => {
  it("is undefined for a project without alchemy.config.json", () => {
    expect(loadAlchemyConfig(project)).toBeUndefined();
  });

  it("loads the stageProfileMapping, which then denies a pair naming the file", () => {
    write({ $schema: "https://example.com/alchemy.schema.json", stageProfileMapping: { "pr-*": ["ci"], prod: ["prod"], $USER: ["default"] } });
    const config = loadAlchemyConfig(project);
    expect(config).toEqual({ file, stageProfileMapping: { "pr-*": ["ci"], prod: ["prod"], $USER: ["default"] } });
    expect(() => checkStageProfile("prod", "ci", config?.stageProfileMapping, { user: "alice", source: config?.file })).toThrow(
      `Profile "ci" may not be used on stage "prod": stageProfileMapping (from ${file}) key "prod" allows only profile "prod".`,
    );
    expect(checkStageProfile("pr-5", "ci", config?.stageProfileMapping, { user: "alice", source: config?.file })?.keys).toEqual(["pr-*"]);
  });

  it("loads a file without a mapping as a config without one", () => {
    write({});
    expect(loadAlchemyConfig(project)).toEqual({ file });
  });

  it("refuses a file that is not JSON, naming it", () => {
    write(`{ "stageProfileMapping": `);
    expect(() => loadAlchemyConfig(project)).toThrow(`${file} is not valid JSON`);
  });

  it("refuses a misspelt key rather than silently not enforcing the mapping", () => {
    write({ stageProfileMaping: { prod: ["prod"] } });
    try {
      loadAlchemyConfig(project);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProfileError);
      expect((error as ProfileError).message).toContain(`${file} has an unknown key "stageProfileMaping"; the keys it may hold are $schema, stageProfileMapping.`);
      expect(error).toMatchObject({ file, key: "stageProfileMaping" });
    }
  });

  it("refuses an invalid mapping, naming the file and the key", () => {
    write({ stageProfileMapping: { prod: "prod" } });
    try {
      loadAlchemyConfig(project);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProfileError);
      expect((error as ProfileError).message).toContain(`stageProfileMapping (from ${file}) is invalid at key "prod": expected a list of profile names`);
      expect(error).toMatchObject({ file, key: "prod" });
    }
  });

  it("refuses a top level that is not an object", () => {
    write(`["prod"]`);
    expect(() => loadAlchemyConfig(project)).toThrow(`${file} must hold a JSON object`);
  });
});
