import { describe, expect, it } from "vitest";
import { nameProblem } from "../core/names.js";
import { derivedStage, MAX_APP_NAME, MAX_STAGE_SLUG, stageSlug, testAppName, testFileLabel } from "./test-names.js";

describe("test scope names", () => {
  it("names the application after the test file's path relative to the working directory", () => {
    expect(testAppName({ url: "file:///repo/src/storage/bucket.test.ts" }, "/repo")).toBe("src-storage-bucket.test.ts");
    expect(testAppName({ url: "file:///ignored.ts", filename: "/repo/a b/ü+x.test.ts" }, "/repo")).toBe("a-b---x.test.ts");
    expect(testFileLabel({ url: "file:///repo/src/storage/bucket.test.ts" }, "/repo")).toBe("src/storage/bucket.test.ts");
  });

  it("keeps an application name valid: no leading dots for a file outside the working directory, at most 100 characters", () => {
    expect(testAppName({ url: "file:///elsewhere/x.test.ts" }, "/repo")).toBe("elsewhere-x.test.ts");
    const long = `file:///repo/${"deeply-nested/".repeat(12)}thing.test.ts`;
    const name = testAppName({ url: long }, "/repo");
    expect(name.length).toBeLessThanOrEqual(MAX_APP_NAME);
    expect(name).toMatch(/^deeply-nested-.*[^-]-[0-9a-f]{8}$/);
    expect(nameProblem(name)).toBeUndefined();
    expect(testAppName({ url: long.replace("thing", "other") }, "/repo")).not.toBe(name);
  });

  it("makes a stage from the test's name: lower case, runs of other characters as one dash, trimmed", () => {
    expect(stageSlug("Bucket > is private by default")).toBe("bucket-is-private-by-default");
    expect(stageSlug("  --Héllo, World!--  ")).toBe("h-llo-world");
    expect(stageSlug("***")).toBe("test");
  });

  it("cuts a long test name to 60 characters with a hash of the whole, so that names sharing a start stay apart", () => {
    const base = "a very long test name that goes on and on about what it checks ";
    const one = stageSlug(`${base} first`);
    const two = stageSlug(`${base} second`);
    expect(one.length).toBeLessThanOrEqual(MAX_STAGE_SLUG);
    expect(one).toMatch(/^a-very-long-test-name.*-[0-9a-f]{8}$/);
    expect(one).not.toBe(two);
    expect(nameProblem(one)).toBeUndefined();
  });

  it("puts $ALCHEMY_STAGE in front of a derived stage, and uses \"test\" when the name is unknown", () => {
    expect(derivedStage("uploads a file", { ALCHEMY_STAGE: "pr-42" })).toBe("pr-42-uploads-a-file");
    expect(derivedStage("uploads a file", {})).toBe("uploads-a-file");
    expect(derivedStage(undefined, {})).toBe("test");
    expect(derivedStage(undefined, { ALCHEMY_STAGE: "ci" })).toBe("ci-test");
  });
});
