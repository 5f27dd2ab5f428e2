import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import alchemy, { ProfileError, Resource } from "alchemy";
import { memoryState, tempDir } from "../world.test-fixture.js";
import { writeProfiles } from "./profile-file.js";

let home: { dir: string; remove: () => void };
let project: { dir: string; remove: () => void };
const savedEnv = { ...process.env };
beforeEach(() => {
  home = tempDir("alchemy-home-");
  project = tempDir("alchemy-project-");
  process.env.ALCHEMY_HOME = home.dir;
  process.env.USER = "ada";
});
afterEach(() => {
  process.env = { ...savedEnv };
  home.remove();
  project.remove();
});

const MAPPING = { prod: ["prod"], "pr-*": ["ci"], $USER: ["default"] };

describe("stageProfileMapping", () => {
  const cases: [stage: string, profile: string, allowed: boolean][] = [
    ["prod", "prod", true],
    ["prod", "ci", false],
    ["prod", "default", false],
    ["pr-42", "ci", true],
    ["pr-42", "prod", false],
    ["ada", "default", true],
    ["ada", "ci", false],
    ["staging", "anything", true],
    ["prod", "no-such-profile", false],
  ];
  for (const [stage, profile, allowed] of cases) {
    it(`${allowed ? "allows" : "denies"} profile "${profile}" on stage "${stage}"${allowed ? "" : ", before any state is read"}`, async () => {
      const state = memoryState();
      const run = alchemy("app", state.options({ stage, profile, stageProfileMapping: MAPPING, rootDir: project.dir }));
      if (allowed) {
        await (await run).finalize();
        return;
      }
      await expect(run).rejects.toBeInstanceOf(ProfileError);
      await expect(alchemy("app", state.options({ stage, profile, stageProfileMapping: MAPPING, rootDir: project.dir }))).rejects.toThrow(
        new RegExp(`Profile "${profile}" may not be used on stage "${stage}"`),
      );
      expect(state.log).toEqual([]);
    });
  }

  it("is enforced from the project's alchemy.config.json for every program", async () => {
    writeFileSync(path.join(project.dir, "alchemy.config.json"), JSON.stringify({ stageProfileMapping: { prod: ["prod"] } }));
    const state = memoryState();
    await expect(alchemy("app", state.options({ stage: "prod", profile: "default", rootDir: project.dir }))).rejects.toThrow(/alchemy\.config\.json/);
    expect(state.log).toEqual([]);
    await (await alchemy("app", state.options({ stage: "prod", profile: "prod", rootDir: project.dir }))).finalize();
  });
});

describe("credentials", () => {
  const seen: unknown[] = [];
  const Db = Resource("test::CredDb", async function (_id: string, _props: { n: number }) {
    if (this.phase === "delete") return this.destroy();
    seen.push(this.credentials<{ url: string }>("postgres").url);
    return {};
  });

  it("come from the run's profile, are overridden per scope, and an undefined profile fails only when a provider asks", async () => {
    writeProfiles(path.join(home.dir, "profiles.json"), { profiles: { ci: { postgres: { url: "postgres://ci-host/db" } } } });
    const state = memoryState();
    const app = await alchemy("app", state.options({ profile: "ci", rootDir: project.dir }));
    await Db("a", { n: 1 });
    await alchemy.run("local", { credentials: { postgres: { url: "postgres://localhost/test" } } }, async () => {
      await Db("b", { n: 1 });
    });
    await app.finalize();
    expect(seen).toEqual(["postgres://ci-host/db", "postgres://localhost/test"]);

    const other = await alchemy("app", state.options({ profile: "nobody", rootDir: project.dir, stage: "other" }));
    await expect(Db("c", { n: 1 })).rejects.toThrow(/Failed to create "app\/other\/c": Profile "nobody"/);
    await other.release();
  });
});
