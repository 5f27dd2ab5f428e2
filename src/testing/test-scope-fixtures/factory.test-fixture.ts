/** Copied into a temp project as `factory.test.ts`: `const test = alchemy.test(import.meta)`. */
import { appendFileSync, existsSync } from "node:fs";
import alchemy from "alchemy";
import { File } from "alchemy/fs";
import { describe, expect } from "vitest";

const test = alchemy.test(import.meta);

describe("Factory Form", () => {
  test("names the stage after the test", async (scope) => {
    appendFileSync("world/stages.log", `${scope.path}\n`);
    const file = await File("named", { path: "world/factory.txt", content: "named" });
    expect(existsSync(file.path)).toBe(true);
  });

  test.skip("is skipped", async () => {
    throw new Error("a skipped test ran");
  });
});

const custom = alchemy.test(import.meta, { stage: "chosen-stage", destroyStrategy: "parallel" });

custom("uses the stage it is given", async (scope) => {
  appendFileSync("world/stages.log", `${scope.path}\n`);
  await File("chosen", { path: "world/chosen.txt", content: "chosen" });
});
