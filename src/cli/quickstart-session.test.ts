import { readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, removeProject, REPO, runAlchemy } from "./cli.test-fixture.js";

const projects: string[] = [];
afterEach(() => projects.splice(0).forEach(removeProject));

describe("a session with the alchemy binary", () => {
  it("deploys the quickstart, plans an edit, inspects and edits state, and destroys the stage", async () => {
    const dir = makeProject({ "alchemy.run.ts": readFileSync(path.join(REPO, "examples/quickstart/alchemy.run.ts"), "utf8") });
    projects.push(dir);
    expect((await runAlchemy(["deploy", "-s", "dev"], dir)).code).toBe(0);
    expect((await runAlchemy(["deploy", "-s", "prod"], dir)).code).toBe(0);

    const program = path.join(dir, "alchemy.run.ts");
    writeFileSync(program, readFileSync(program, "utf8").replace("<h1>Hello from alchemy</h1>", "<h1>Hello again</h1>"));
    const plan = await runAlchemy(["plan", "-s", "dev", "--json", "--detailed-exitcode"], dir);
    expect(plan.code).toBe(2);
    const planned = JSON.parse(plan.stdout).resources.filter((r: { action: string }) => r.action !== "noop");
    expect(planned).toEqual([
      expect.objectContaining({
        fqn: "quickstart/dev/site/index",
        action: "update",
        status: "planned",
        changes: [{ path: "content", before: "<h1>Hello from alchemy</h1>\n", after: "<h1>Hello again</h1>\n" }],
      }),
    ]);

    const list = await runAlchemy(["state", "list", "-s", "dev", "--json"], dir);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((r: { fqn: string }) => r.fqn)).toEqual([
      "quickstart/dev/out",
      "quickstart/dev/session-secret",
      "quickstart/dev/site/about",
      "quickstart/dev/site/api/config",
      "quickstart/dev/site/index",
      "quickstart/dev/site/pages",
    ]);
    const show = await runAlchemy(["state", "show", "quickstart/dev/site/index", "--json"], dir);
    expect(JSON.parse(show.stdout)).toMatchObject({ status: "created", kind: "fs::File", deps: ["quickstart/dev/site/pages"] });
    const stages = await runAlchemy(["state", "stages", "--json"], dir);
    expect(JSON.parse(stages.stdout).map((s: { stage: string; resources: number }) => [s.stage, s.resources])).toEqual([
      ["dev", 6],
      ["prod", 6],
    ]);

    const rm = await runAlchemy(["state", "rm", "quickstart/dev/site/about"], dir);
    expect(rm.code).toBe(0);
    expect(existsSync(path.join(dir, "out/dev/site/about.html"))).toBe(true);
    rmSync(path.join(dir, "out/dev/site/about.html"));

    const destroy = await runAlchemy(["destroy", "-s", "dev", "--force"], dir);
    expect(destroy.code).toBe(0);
    expect(destroy.stdout).toMatch(/deleted 5, unchanged 0/);
    expect(existsSync(path.join(dir, "out/dev"))).toBe(false);
    expect(existsSync(path.join(dir, "out/prod/site/index.html"))).toBe(true);
    const after = await runAlchemy(["state", "stages", "--json"], dir);
    expect(JSON.parse(after.stdout).map((s: { stage: string }) => s.stage)).toEqual(["prod"]);
  });

  it("initializes a project whose deploy works, and whose second deploy changes nothing", async () => {
    const dir = makeProject({});
    projects.push(dir);
    rmSync(path.join(dir, "package.json"));
    const init = await runAlchemy(["init", "--name", "demo"], dir);
    expect(init.code).toBe(0);
    for (const file of ["package.json", "tsconfig.json", "alchemy.run.ts", ".gitignore", ".github/workflows/preview.yml"]) {
      expect(existsSync(path.join(dir, file))).toBe(true);
    }
    const first = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/created \d+, updated 0, deleted 0, unchanged 0/);
    const second = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^No changes: \d+ unchanged/);
  });
});
