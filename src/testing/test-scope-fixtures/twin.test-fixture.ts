/**
 * Copied into a temp project as `twin.test.ts`, and run by two vitest
 * processes at once (TWIN=a, TWIN=b): the same file, test and resource id. The
 * test does not end before the other process has created its file too (each
 * leaves a marker, twin-<a|b>.ready, once it has).
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import alchemy from "alchemy";
import { File } from "alchemy/fs";
import { expect, it } from "vitest";

const me = process.env.TWIN!;
const other = me === "a" ? "b" : "a";

it("runs beside its twin", async () => {
  await alchemy.test(import.meta, async (scope) => {
    appendFileSync("world/stages.log", `${scope.path}\n`);
    const file = await File("twin", { path: `world/twin-${me}.txt`, content: me });
    writeFileSync(`twin-${me}.ready`, "");
    const deadline = Date.now() + 20_000;
    while (!existsSync(`twin-${other}.ready`)) {
      if (Date.now() > deadline) throw new Error(`twin ${other} never created its file`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(readFileSync(file.path, "utf8")).toBe(me);
  });
}, 30_000);
