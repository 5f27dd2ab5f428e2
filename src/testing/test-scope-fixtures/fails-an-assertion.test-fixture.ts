/** Copied into a temp project as `fails-an-assertion.test.ts`: form 1 on a failing assertion. */
import { appendFileSync, readFileSync } from "node:fs";
import alchemy from "alchemy";
import { File } from "alchemy/fs";
import { expect, it } from "vitest";

it("fails an assertion after creating a file", async () => {
  await alchemy.test(import.meta, async (scope) => {
    appendFileSync("world/stages.log", `${scope.path}\n`);
    const file = await File("note", { path: "world/assertion.txt", content: "written" });
    expect(readFileSync(file.path, "utf8")).toBe("expected");
  });
});
