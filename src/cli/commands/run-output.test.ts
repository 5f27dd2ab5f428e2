import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, runAlchemy } from "../cli.test-fixture.js";
import { project, removeProjectsAfterEach, track } from "../note-project.test-fixture.js";
import { persistentStoreUrls } from "../../state/store-urls.test-fixture.js";

removeProjectsAfterEach();

/** A resource kind whose update reads a prop that is not there (line 4 throws). */
const DB = `import { Resource } from "alchemy";
export const Db = Resource("custom::Db", async function (id: string, props: { size: number; settings?: { foo: number } }) {
  if (this.phase === "delete") return this.destroy();
  if (this.phase === "update") return { size: (props.settings as any).foo };
  return { size: props.size };
});
`;
const dbProgram = (size: number) => `import alchemy from "alchemy";
import { Db } from "./db.ts";
const app = await alchemy("custom");
await Db("db", { size: ${size} });
await app.finalize();
`;

describe("an exception thrown in a handler", () => {
  it("is shown with the handler's file:line:column, and with its whole stack under --verbose (also in --json)", async () => {
    const dir = track(makeProject({ "db.ts": DB, "alchemy.run.ts": dbProgram(1) }));
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    writeFileSync(path.join(dir, "alchemy.run.ts"), dbProgram(2));
    const handlerLine = new RegExp(`at ${escape(path.join(dir, "db.ts"))}:4:\\d+\\n`);

    const plain = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain(`✗ custom/dev/db: Failed to update "custom/dev/db": Cannot read properties of undefined (reading 'foo')\n`);
    expect(plain.stdout).toMatch(handlerLine);
    expect(plain.stdout).not.toContain("TypeError");

    const verbose = await runAlchemy(["deploy", "--stage", "dev", "--verbose"], dir);
    expect(verbose.code).toBe(1);
    expect(verbose.stdout).toContain("      TypeError: Cannot read properties of undefined (reading 'foo')\n");
    expect(verbose.stdout).toMatch(new RegExp(`\\n {10}at .*${escape(path.join(dir, "db.ts"))}:4:\\d+\\)?\\n`));

    const json = JSON.parse((await runAlchemy(["deploy", "--stage", "dev", "--json", "--verbose"], dir)).stdout);
    expect(json.errors).toHaveLength(1);
    expect(json.errors[0]).toMatchObject({ fqn: "custom/dev/db", location: expect.stringMatching(/db\.ts:4:\d+$/) });
    expect(json.errors[0].stack).toMatch(/^TypeError: Cannot read properties of undefined \(reading 'foo'\)\n\s+at /);
  });
});

describe("a deploy to a stage the store does not hold yet", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it.each(persistentStoreUrls("alchemy_new_stage", cleanups))(
    "says it creates a new stage, naming the existing ones, when the application has others, on %s",
    async (_name, url) => {
      const dir = project(`await Note("a", { text: "alpha" });`);
      const state = ["--state", await url()];
      const first = await runAlchemy(["deploy", "--stage", "dev", ...state], dir);
      expect(first.code).toBe(0);
      expect(first.stderr).not.toContain("new stage");
      expect((await runAlchemy(["deploy", "--stage", "prod", ...state], dir)).stderr).toContain(`Creating new stage "prod" (existing: dev)\n`);

      const typo = await runAlchemy(["deploy", "--stage", "dve", "--json", ...state], dir);
      expect(typo.code).toBe(0);
      expect(JSON.parse(typo.stdout).newStages).toEqual([{ app: "shop", stage: "dve", existing: ["dev", "prod"] }]);
      expect(typo.stderr).not.toContain("new stage");

      const again = await runAlchemy(["deploy", "--stage", "dev", "--json", ...state], dir);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).newStages).toBeUndefined();
    },
  );
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
