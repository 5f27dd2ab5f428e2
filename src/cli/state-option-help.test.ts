import { describe, expect, it } from "vitest";
import { captureIO } from "./io.test-fixture.js";
import { runCli } from "./program.js";

/** Every command that takes --state. */
const COMMANDS = [
  ["deploy"],
  ["plan"],
  ["destroy"],
  ["read"],
  ["dev"],
  ["state", "list"],
  ["state", "migrate"],
  ["state", "export"],
  ["state", "import"],
  ["graph"],
  ["stages"],
  ["stages", "prune"],
  ["unlock"],
];

/** The forms of store URL `parseStoreUrl` reads, the cloud stores' included. */
const FORMS = ["a directory", "file:<dir>", "sqlite:<file>", "postgres://", "s3://bucket/prefix", "r2://bucket/prefix", "dynamodb://table"];

describe("the --state option's help", () => {
  it.each(COMMANDS.map((command) => [command.join(" "), command]))("of alchemy %s lists every store URL form, the cloud stores' included", async (_, command) => {
    const io = captureIO("/");

    expect(await runCli([...command, "--help"], io)).toBe(0);

    const help = io.out().replace(/\s+/g, " ");
    const state = /--state <dir\|store-url> (.*?)\(default: \$ALCHEMY_STATE_STORE, else \.alchemy\)/.exec(help)?.[1];
    expect(state, help).toBeDefined();
    for (const form of FORMS) expect(state).toContain(form);
  });
});
