/** Copied into a temp project as `leaks.test.ts`: a resource whose delete always fails. */
import { appendFileSync } from "node:fs";
import alchemy, { Resource, type Context } from "alchemy";
import { File } from "alchemy/fs";
import { it } from "vitest";

const Sticky = Resource("fixture::Sticky", async function (this: Context<{ made: true }>) {
  if (this.phase === "delete") throw new Error("the sticky resource refuses to go");
  return { made: true as const };
});

it("passes but leaves a sticky resource", async () => {
  await alchemy.test(import.meta, async (scope) => {
    appendFileSync("world/stages.log", `${scope.path}\n`);
    await File("plain", { path: "world/leaks-plain.txt", content: "plain" });
    await Sticky("sticky");
  });
});

it("fails and leaves a sticky resource", async () => {
  await alchemy.test(import.meta, async (scope) => {
    appendFileSync("world/stages.log", `${scope.path}\n`);
    await Sticky("sticky-too");
    throw new Error("the test's own failure");
  });
});
