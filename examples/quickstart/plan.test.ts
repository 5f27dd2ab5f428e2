/**
 * `alchemy plan` on the quickstart says what `alchemy deploy` then does: the
 * same action for each resource and the same counts, for the edits its
 * README suggests; where it cannot know (an output regenerated at deploy), it
 * says so instead of promising an update.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, removeProject, runAlchemy } from "../../src/cli/cli.test-fixture.js";

const here = path.dirname(fileURLToPath(import.meta.url));

interface RunDocument {
  resources: { fqn: string; action: string; alternatives?: string[] }[];
  summary: Record<string, number>;
}

const projects: string[] = [];
afterEach(() => projects.splice(0).forEach(removeProject));

async function run(dir: string, command: "plan" | "deploy"): Promise<RunDocument> {
  const result = await runAlchemy([command, "--stage", "dev", "--json"], dir);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

/** `action fqn` (without `quickstart/dev/`) of every resource changed, or to be. */
const changed = (doc: RunDocument) => doc.resources.filter((r) => r.action !== "noop").map((r) => `${r.action} ${r.fqn.replace("quickstart/dev/", "")}`);

/** Every count a plan promises (deploy has no undecided ones). */
const counts = ({ elapsedMs: _time, failed: _failed, undecided = 0, ...rest }: Record<string, number>) => ({ ...rest, undecided });

function edit(dir: string, from: string, to: string): void {
  const program = path.join(dir, "alchemy.run.ts");
  const text = readFileSync(program, "utf8");
  expect(text).toContain(from);
  writeFileSync(program, text.replace(from, to));
}

describe("the quickstart's plan", () => {
  it("is what deploy then does, resource by resource and in every count: a moved folder, an edited page, a folder made clean", async () => {
    const dir = makeProject({ "alchemy.run.ts": readFileSync(path.join(here, "alchemy.run.ts"), "utf8") });
    projects.push(dir);
    await run(dir, "deploy");
    const replaced = (fqn: string) => [`replace ${fqn}`, `delete ${fqn}`];
    const edits: [string, string, string[]][] = [
      ["path: `out/", "path: `public/", ["out", "site/pages", "site/index", "site/about", "site/api/config"].flatMap(replaced)],
      ["Hello from alchemy", "Hello again", ["update site/index"]],
      ["parent: out }", "parent: out, clean: true }", ["update site/pages"]],
    ];
    for (const [from, to, expected] of edits) {
      edit(dir, from, to);
      const plan = await run(dir, "plan");
      const deploy = await run(dir, "deploy");
      expect(changed(plan), `plan after ${to}`).toEqual(expected);
      expect(changed(deploy).sort(), `deploy after ${to}`).toEqual([...expected].sort());
      expect(counts(deploy.summary), `counts after ${to}`).toEqual(counts(plan.summary));
    }
    expect(counts((await run(dir, "plan")).summary)).toEqual({ created: 0, updated: 0, replaced: 0, deleted: 0, unchanged: 6, undecided: 0 });
  });

  it("says that a file embedding a regenerated secret may change, known after deploy, rather than promising an update", async () => {
    const dir = makeProject({ "alchemy.run.ts": readFileSync(path.join(here, "alchemy.run.ts"), "utf8") });
    projects.push(dir);
    await run(dir, "deploy");
    edit(dir, "length: 24", "length: 32");
    const text = await runAlchemy(["plan", "--stage", "dev"], dir);
    expect(text.stdout).toContain("? update  quickstart/dev/site/api/config (or unchanged: known after deploy)");
    expect(text.stdout).toContain("Plan: 0 to create, 1 to update, 0 to delete, 1 may change (known after deploy), 4 unchanged");
    const plan = await run(dir, "plan");
    expect(plan.resources.find((r) => r.fqn === "quickstart/dev/site/api/config")).toMatchObject({ action: "update", alternatives: ["noop"] });
    const deploy = await run(dir, "deploy");
    expect(changed(deploy)).toEqual(["update session-secret", "update site/api/config"]);
    expect(deploy.summary.updated).toBe(plan.summary.updated + plan.summary.undecided);
  });
});
