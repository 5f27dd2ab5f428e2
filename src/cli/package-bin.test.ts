import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./cli.test-fixture.js";

describe("the package's bin", () => {
  it("is `alchemy`, the build output of src/cli/main.ts, which starts with a node shebang", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8"));
    expect(pkg.bin).toEqual({ alchemy: "./dist/cli/main.js" });
    const build = JSON.parse(readFileSync(path.join(REPO, "tsconfig.build.json"), "utf8"));
    expect(build.compilerOptions).toMatchObject({ rootDir: "src", outDir: "dist" });
    expect(readFileSync(path.join(REPO, "src/cli/main.ts"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    // The command line loads TypeScript programs itself, so its loader is a runtime dependency.
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(["commander", "picocolors", "tsx"]));
  });
});
