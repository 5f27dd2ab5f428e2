import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import alchemy, { ProfileError, Resource } from "alchemy";
import { memoryState, tempDir } from "../world.test-fixture.js";
import { MemoryStateStore } from "../../state/memory/memory-state-store.js";
import { writeProfiles } from "./profile-file.js";
import type { RecordedProfiles } from "./recorded-mapping.js";

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

describe("the mapping a stage's store records", () => {
  const PROD_ONLY = { prod: ["prod"] };
  const Note = Resource("test::RecordedNote", async function (_id: string, _props: { text: string }) {
    if (this.phase === "delete") return this.destroy();
    return {};
  });
  /** One run of app "app" on stage prod with these options, declaring one note, finalized. */
  const run = async (state: ReturnType<typeof memoryState>, options: { profile: string; stageProfileMapping?: Record<string, string[]>; phase?: "up" | "plan" | "read" | "destroy" }) => {
    const app = await alchemy("app", state.options({ stage: "prod", rootDir: project.dir, ...options }));
    if (options.phase !== "destroy") await Note("a", { text: "alpha" });
    await app.finalize();
  };
  const recorded = async (state: ReturnType<typeof memoryState>) =>
    (await new MemoryStateStore({ chain: ["app", "prod"] }, { tree: state.tree }).getStageMeta())?.profiles as RecordedProfiles | undefined;

  it("is written by a deploy, with where each mapping came from", async () => {
    writeFileSync(path.join(project.dir, "alchemy.config.json"), JSON.stringify({ stageProfileMapping: { "pr-*": ["ci"] } }));
    const state = memoryState();
    await run(state, { profile: "prod", stageProfileMapping: PROD_ONLY });
    expect(await recorded(state)).toEqual({
      recordedAt: expect.any(String),
      mappings: [
        { source: 'the options of application "app"', mapping: PROD_ONLY },
        { source: path.join(project.dir, "alchemy.config.json"), mapping: { "pr-*": ["ci"] } },
      ],
    });
  });

  it("refuses a later run of a program without the mapping, reading nothing but the stage's metadata", async () => {
    const state = memoryState();
    await run(state, { profile: "prod", stageProfileMapping: PROD_ONLY });
    state.log.length = 0;
    for (const phase of ["up", "plan", "read", "destroy"] as const) {
      await expect(run(state, { profile: "ci", phase })).rejects.toThrow(
        `Profile "ci" may not be used on stage "prod": stageProfileMapping (from the options of application "app", as the stage's last deploy recorded it) ` +
          `key "prod" allows only profile "prod". Nothing was read or changed. Run with --profile prod (or ALCHEMY_PROFILE=prod). ` +
          "To change which profiles may use the stage, deploy the new mapping with a profile the recorded one allows: that deploy records it.",
      );
    }
    expect(state.log.map((c) => c.method)).toEqual(["getStageMeta", "getStageMeta", "getStageMeta", "getStageMeta"]);
  });

  it("is changed only by a deploy whose profile it allows, and removed by one of a program without a mapping", async () => {
    const state = memoryState();
    const loosened = { prod: ["prod", "release"] };
    await run(state, { profile: "prod", stageProfileMapping: PROD_ONLY });
    await expect(run(state, { profile: "release", stageProfileMapping: loosened })).rejects.toThrow(/as the stage's last deploy recorded it\) key "prod" allows only profile "prod"/);
    expect((await recorded(state))?.mappings[0]?.mapping).toEqual(PROD_ONLY);
    await run(state, { profile: "prod", stageProfileMapping: loosened });
    await run(state, { profile: "release", stageProfileMapping: loosened });
    expect((await recorded(state))?.mappings[0]?.mapping).toEqual(loosened);

    await expect(run(state, { profile: "ci" })).rejects.toThrow(/Profile "ci" may not be used on stage "prod"/);
    await run(state, { profile: "prod" });
    expect(await recorded(state)).toBeUndefined();
    await run(state, { profile: "ci" });
  });

  it("is not written by plan or read, nor rewritten by a deploy of the same mapping", async () => {
    const state = memoryState();
    await run(state, { profile: "prod", stageProfileMapping: PROD_ONLY });
    const first = await recorded(state);
    await run(state, { profile: "prod", stageProfileMapping: { prod: ["prod", "x"] }, phase: "plan" });
    await run(state, { profile: "prod", stageProfileMapping: { prod: ["prod", "x"] }, phase: "read" });
    state.log.length = 0;
    await run(state, { profile: "prod", stageProfileMapping: PROD_ONLY });
    expect(await recorded(state)).toEqual(first);
    expect(state.log.filter((c) => c.method === "setStageMeta")).toHaveLength(1); // lastDeploy only
  });

  it("refuses a damaged entry rather than skipping the check", async () => {
    const state = memoryState();
    await run(state, { profile: "prod", stageProfileMapping: PROD_ONLY });
    const store = new MemoryStateStore({ chain: ["app", "prod"] }, { tree: state.tree });
    await store.setStageMeta({ ...(await store.getStageMeta()), profiles: { recordedAt: "x", mappings: [{ source: "s", mapping: { prod: "prod" } }] } });
    await expect(run(state, { profile: "prod" })).rejects.toThrow(
      `The metadata of stage "prod" holds a "profiles" entry that is not a recorded stageProfileMapping: mappings[0]: stageProfileMapping (from s) is invalid at key "prod"`,
    );
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
