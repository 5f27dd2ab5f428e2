import { describe, expect, it } from "vitest";
import type { Launch } from "./launch.js";
import { resolveOptions } from "./options.js";

const launch = (options: Launch["options"], spelledAs: Launch["spelledAs"] = {}): Launch => ({
  options,
  spelledAs,
  onEvent: () => {},
  applications: [],
});

describe("resolveOptions", () => {
  it("takes each option from the program first, then the launch, then the environment, then the default", () => {
    const env = { ALCHEMY_STAGE: "from-env", ALCHEMY_PROFILE: "env-profile", USER: "alice" };
    expect(resolveOptions("app", {}, {}).stage).toBe("dev");
    expect(resolveOptions("app", {}, { USER: "alice" }).stage).toBe("alice");
    expect(resolveOptions("app", {}, env).stage).toBe("from-env");
    expect(resolveOptions("app", {}, env, launch({ stage: "from-flag" })).stage).toBe("from-flag");
    expect(resolveOptions("app", { stage: "pinned" }, env, launch({})).stage).toBe("pinned");
    expect(resolveOptions("app", {}, {}).profile).toBe("default");
    expect(resolveOptions("app", {}, env).profile).toBe("env-profile");
    expect(resolveOptions("app", {}, env, launch({ profile: "flag-profile" })).profile).toBe("flag-profile");
  });

  it("treats an empty ALCHEMY_STAGE as unset", () => {
    expect(resolveOptions("app", {}, { ALCHEMY_STAGE: "", USER: "bob" }).stage).toBe("bob");
  });

  it("rejects a launch option that contradicts the program, naming both, and accepts one that agrees", () => {
    expect(() => resolveOptions("shop", { stage: "dev" }, {}, launch({ stage: "prod" }, { stage: "--stage prod" }))).toThrow(
      `--stage prod contradicts stage: "dev" set by application "shop" in the program`,
    );
    expect(() => resolveOptions("shop", { phase: "up" }, {}, launch({ phase: "destroy" }, { phase: "alchemy destroy" }))).toThrow(
      /alchemy destroy contradicts phase: "up"/,
    );
    expect(resolveOptions("shop", { stage: "dev" }, {}, launch({ stage: "dev" })).stage).toBe("dev");
  });

  it("hands the launch's events and signal to the run, and leaves the summary to the launcher", () => {
    const controller = new AbortController();
    const onEvent = () => {};
    const resolved = resolveOptions("app", { quiet: false }, {}, { ...launch({}), onEvent, signal: controller.signal });
    expect(resolved.onEvent).toBe(onEvent);
    expect(resolved.printSummary).toBe(false);
    controller.abort();
    expect(resolved.signal?.aborted).toBe(true);
    expect(resolveOptions("app", {}, {}).printSummary).toBe(true);
  });
});
