import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkMappings, programMappings, type SourcedMapping } from "./mapping-sources.js";

let root = "";
let project = "";
let rootDir = "";
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-mapping-sources-"));
  project = path.join(root, "project");
  rootDir = path.join(root, "elsewhere");
  fs.mkdirSync(project);
  fs.mkdirSync(rootDir);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const config = (dir: string, mapping: Record<string, string[]>) =>
  fs.writeFileSync(path.join(dir, "alchemy.config.json"), JSON.stringify({ stageProfileMapping: mapping }));

describe("programMappings", () => {
  it("brings the program's option, then alchemy.config.json beside the program file, then the one in rootDir", () => {
    config(project, { prod: ["prod"] });
    config(rootDir, { "pr-*": ["ci"] });
    const programFile = path.join(project, "alchemy.run.ts");
    expect(programMappings("shop", { stageProfileMapping: { dev: ["default"] }, rootDir, programFile })).toEqual([
      { source: `the options of application "shop" in ${programFile}`, mapping: { dev: ["default"] } },
      { source: path.join(project, "alchemy.config.json"), mapping: { prod: ["prod"] } },
      { source: path.join(rootDir, "alchemy.config.json"), mapping: { "pr-*": ["ci"] } },
    ]);
  });

  it("reads a file once when rootDir is the program's directory, and only rootDir when the program file is unknown", () => {
    config(project, { prod: ["prod"] });
    const once = [{ source: path.join(project, "alchemy.config.json"), mapping: { prod: ["prod"] } }];
    expect(programMappings("shop", { rootDir: project, programFile: path.join(project, "alchemy.run.ts") })).toEqual(once);
    expect(programMappings("shop", { rootDir: project })).toEqual(once);
    expect(programMappings("shop", { rootDir })).toEqual([]);
  });
});

describe("checkMappings", () => {
  it("needs every mapping to allow the pair: one that denies it is named, whatever the others allow", () => {
    const mappings: SourcedMapping[] = [
      { source: "first", mapping: { "*": ["ci", "prod"] } },
      { source: "second", mapping: { prod: ["prod"] } },
    ];
    expect(() => checkMappings("prod", "prod", mappings)).not.toThrow();
    expect(() => checkMappings("prod", "ci", mappings)).toThrow(`Profile "ci" may not be used on stage "prod": stageProfileMapping (from second) key "prod"`);
    expect(() => checkMappings("pr-1", "default", mappings)).toThrow(`stageProfileMapping (from first) key "*" allows only profiles "ci", "prod"`);
  });
});
