/**
 * Copied into a temp project as `crashes.test.ts`. With CRASH=1 the test
 * process kills itself (SIGKILL) in the middle of a test scope; run again
 * without it, the file's first test scope finds what that run left.
 */
import { appendFileSync, existsSync } from "node:fs";
import alchemy from "alchemy";
import { File } from "alchemy/fs";
import { expect, it } from "vitest";

it.runIf(process.env.CRASH === "1")("dies in the middle", async () => {
  await alchemy.test(import.meta, async (scope) => {
    appendFileSync("world/stages.log", `${scope.path}\n`);
    await File("top", { path: "world/crash-top.txt", content: "left behind" });
    await alchemy.run("nested", async () => {
      await File("inner", { path: "world/crash-inner.txt", content: "left behind" });
    });
    process.kill(process.pid, "SIGKILL");
  });
});

it.runIf(process.env.CRASH !== "1")("runs after the crash", async () => {
  await alchemy.test(import.meta, async (scope) => {
    appendFileSync("world/stages.log", `${scope.path}\n`);
    expect(existsSync("world/crash-top.txt")).toBe(false);
    expect(existsSync("world/crash-inner.txt")).toBe(false);
  });
});
