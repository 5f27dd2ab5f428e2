/**
 * Copied into a temp project as `passes.test.ts`: form 1 on a passing test.
 * Each test scope writes its stage path to world/stages.log, for the parent.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import alchemy, { ScopeError } from "alchemy";
import { File, Folder } from "alchemy/fs";
import { describe, expect, it } from "vitest";

describe("files", () => {
  it("are written inside the scope and gone after it", async () => {
    let written = "";
    await alchemy.test(import.meta, async (scope) => {
      appendFileSync("world/stages.log", `${scope.path}\n`);
      const folder = await Folder("out", { path: "world/passes" });
      const file = await File("greeting", { folder, path: "hello.txt", content: "hello" });
      written = file.path;
      expect(readFileSync(file.path, "utf8")).toBe("hello");
    });
    expect(written).not.toBe("");
    expect(existsSync(written)).toBe(false);
    expect(existsSync("world/passes")).toBe(false);
    // The scope does not outlive alchemy.test.
    expect(() => File("outside", { path: "world/outside.txt", content: "x" })).toThrow(ScopeError);
  });
});
