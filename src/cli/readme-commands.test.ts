import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./cli.test-fixture.js";
import { captureIO } from "./io.test-fixture.js";
import { runCli } from "./program.js";

/** Flags that lift a safety check: a reader of the README's command table should see every command that takes one. */
const LIFTING = ["--allow-deletes", "--force", "--adopt"];

/** Every `alchemy <command> ...` usage in the first cell of the README's command table, by command (`state import`), with the long flags shown. */
function readmeUsages(): Map<string, string[]> {
  const readme = readFileSync(path.join(REPO, "README.md"), "utf8");
  const usages = new Map<string, string[]>();
  for (const row of readme.split("\n").filter((line) => line.startsWith("| `alchemy "))) {
    const cell = row.slice(1).split(/(?<!\\)\|/)[0]!;
    for (const [, text] of cell.matchAll(/`alchemy ([^`]*)`/g)) {
      const words = text!.split(" ");
      const end = words.findIndex((word) => !/^[a-z][a-z0-9]*$/.test(word));
      const command = words.slice(0, end < 0 ? words.length : end).join(" ");
      if (command === "") continue;
      usages.set(command, [...(usages.get(command) ?? []), ...[...text!.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0])]);
    }
  }
  return usages;
}

/** True when `help` has an option line for `flag` (not a mere mention in a description). */
const listed = (help: string, flag: string) => new RegExp(`^ +(-[a-zA-Z], )?${flag}(?![\\w-])`, "m").test(help);

describe("the README's command table", () => {
  const usages = readmeUsages();

  it("has a row for the commands it is read for", () => {
    expect([...usages.keys()]).toEqual(expect.arrayContaining(["deploy", "plan", "destroy", "dev", "state import", "graph"]));
  });

  it.each([...usages])("shows for alchemy %s only flags its --help lists, and each flag of its --help that lifts a safety check", async (command, flags) => {
    const io = captureIO("/");
    expect(await runCli([...command.split(" "), "--help"], io)).toBe(0);
    const help = io.out();
    for (const flag of flags) expect(listed(help, flag), `${flag} is not in alchemy ${command} --help`).toBe(true);
    for (const flag of LIFTING) if (listed(help, flag)) expect(flags, `alchemy ${command} --help lists ${flag}`).toContain(flag);
  });
});
