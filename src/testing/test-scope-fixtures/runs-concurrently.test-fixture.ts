/**
 * Copied into a temp project as `runs-concurrently.test.ts`: eight concurrent
 * tests (four of each form) create a resource with the same id; none finishes
 * before all eight have created theirs, so all eight scopes are alive at once.
 */
import { appendFileSync, readFileSync } from "node:fs";
import alchemy, { type Scope } from "alchemy";
import { File } from "alchemy/fs";
import { describe, expect, it } from "vitest";

const TESTS = 8;
let created = 0;

async function createAndCheck(scope: Scope, i: number) {
  appendFileSync("world/stages.log", `${scope.path}\n`);
  const file = await File("same-id", { path: `world/concurrent-${i}.txt`, content: `test ${i}` });
  created++;
  const deadline = Date.now() + 10_000;
  while (created < TESTS) {
    if (Date.now() > deadline) throw new Error(`only ${created} of ${TESTS} tests ran at once`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const record = (await scope.records()).get("same-id");
  expect(record?.fqn).toBe(`${scope.path}/same-id`);
  expect((record?.output as { path: string }).path).toBe(file.path);
  expect(readFileSync(file.path, "utf8")).toBe(`test ${i}`);
}

const test = alchemy.test(import.meta);

describe.concurrent("together", () => {
  for (let i = 0; i < TESTS / 2; i++) {
    it(`form 1 creates same-id ${i}`, async () => {
      await alchemy.test(import.meta, (scope) => createAndCheck(scope, i));
    });
  }
  for (let i = TESTS / 2; i < TESTS; i++) {
    test.concurrent(`factory form creates same-id ${i}`, (scope) => createAndCheck(scope, i));
  }
});
