import { describe, expect, it } from "vitest";
import { captureIO } from "./io.test-fixture.js";
import { runCli } from "./program.js";

/** Every command and subcommand the help lists (`stages prune`, `profile set`, ...), found by asking `--help` of each. */
async function allCommands(prefix: string[] = []): Promise<string[][]> {
  const io = captureIO("/");
  await runCli([...prefix, "--help"], io);
  const listed = (io.out().split("Commands:\n")[1] ?? "").split("\n\n")[0]!; // the list ends at the first blank line
  const names = [...listed.matchAll(/^  ([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((name) => name !== "help");
  const found: string[][] = [];
  for (const name of names) found.push([...prefix, name], ...(await allCommands([...prefix, name])));
  return found;
}

/** Every command that takes --state, as the help says. */
const COMMANDS: string[][] = [];
for (const command of await allCommands()) {
  const io = captureIO("/");
  await runCli([...command, "--help"], io);
  if (io.out().includes("--state <")) COMMANDS.push(command);
}

/** The forms of store URL `parseStoreUrl` reads, the cloud stores' included. */
const FORMS = ["a directory", "file:<dir>", "sqlite:<file>", "postgres://", "s3://bucket/prefix", "r2://bucket/prefix", "dynamodb://table"];

describe("the --state option's help", () => {
  it("is found on every command that reads or writes state", () => {
    expect(COMMANDS.map((c) => c.join(" "))).toEqual(expect.arrayContaining(["deploy", "plan", "destroy", "dev", "refresh", "read", "state list", "state show", "state history", "state rm", "state unprotect", "state stages", "state migrate", "state export", "state import", "state rekey", "graph", "ui", "stages", "stages prune", "unlock"]));
  });

  it.each(COMMANDS.map((command) => [command.join(" "), command]))("of alchemy %s lists every store URL form, the cloud stores' included", async (_, command) => {
    const io = captureIO("/");

    expect(await runCli([...command, "--help"], io)).toBe(0);

    const help = io.out().replace(/\s+/g, " ");
    const state = /--state <dir\|store-url> (.*?)\(default: \$ALCHEMY_STATE_STORE, else \.alchemy\)/.exec(help)?.[1];
    expect(state, help).toBeDefined();
    for (const form of FORMS) expect(state).toContain(form);
  });
});
