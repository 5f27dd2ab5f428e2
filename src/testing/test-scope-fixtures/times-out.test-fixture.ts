/** Copied into a temp project as `times-out.test.ts`: tests whose function hangs after creating a file. */
import { appendFileSync } from "node:fs";
import alchemy from "alchemy";
import { File } from "alchemy/fs";
import { it } from "vitest";

const hang = () => new Promise<never>(() => undefined);

it("hangs in form 1", async () => {
  await alchemy.test(import.meta, async (scope) => {
    appendFileSync("world/stages.log", `${scope.path}\n`);
    await File("hung", { path: "world/hung-1.txt", content: "still here?" });
    await hang();
  });
}, 2_000);

const test = alchemy.test(import.meta);

test("hangs in the factory form", async (scope) => {
  appendFileSync("world/stages.log", `${scope.path}\n`);
  await File("hung", { path: "world/hung-2.txt", content: "still here?" });
  await hang();
}, 2_000);
