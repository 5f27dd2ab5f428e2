import path from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "./exit-codes.js";
import { checkName, parseFqn, resolveStage, stateDirOf } from "./state-target.js";

describe("stateDirOf", () => {
  it("resolves --state against the command's working directory, leaving an absolute one as is", () => {
    expect(stateDirOf({ state: ".alchemy" }, { cwd: "/home/ada/shop" })).toBe(path.resolve("/home/ada/shop/.alchemy"));
    expect(stateDirOf({ state: "/srv/state" }, { cwd: "/home/ada/shop" })).toBe(path.resolve("/srv/state"));
  });
});

describe("resolveStage", () => {
  it("takes --stage, else $ALCHEMY_STAGE, else $USER, else dev", () => {
    const env = { ALCHEMY_STAGE: "ci", USER: "ada" };
    expect(resolveStage("prod", env)).toBe("prod");
    expect(resolveStage(undefined, env)).toBe("ci");
    expect(resolveStage(undefined, { USER: "ada" })).toBe("ada");
    expect(resolveStage(undefined, {})).toBe("dev");
  });

  it("rejects an invalid stage as a usage error saying where it came from and to pass --stage", () => {
    expect(() => resolveStage("a/b", {})).toThrow(UsageError);
    expect(() => resolveStage(undefined, { ALCHEMY_STAGE: "pr 12" })).toThrow(/stage "pr 12" \(from \$ALCHEMY_STAGE\).*pass --stage <stage>/);
  });
});

describe("checkName", () => {
  it("returns a valid name and rejects an invalid one with what is wrong", () => {
    expect(checkName("shop", "application", "--app")).toBe("shop");
    expect(() => checkName("..", "application", "--app")).toThrow(/application "\.\." \(from --app\) is not a valid name: it is "\.\."/);
  });
});

describe("parseFqn", () => {
  it("splits app, stage, the holding scope and the id", () => {
    expect(parseFqn("shop/dev/backend/inner/db")).toEqual({
      fqn: "shop/dev/backend/inner/db",
      app: "shop",
      stage: "dev",
      scope: ["shop", "dev", "backend", "inner"],
      id: "db",
    });
    expect(parseFqn("shop/dev/api")).toMatchObject({ scope: ["shop", "dev"], id: "api" });
  });

  it("rejects fewer than three segments with the expected form", () => {
    for (const fqn of ["", "shop", "shop/dev"]) expect(() => parseFqn(fqn), fqn).toThrow(UsageError);
    expect(() => parseFqn("shop/dev")).toThrow(/"shop\/dev" is not a resource fqn: expected app\/stage\/<nested scopes...>\/id/);
  });

  it("rejects a segment that is not a valid name, naming which one", () => {
    expect(() => parseFqn("shop//db")).toThrow(/its stage segment "" is empty/);
    expect(() => parseFqn("shop/dev/../db")).toThrow(/its scope segment "\.\."/);
    expect(() => parseFqn("shop/dev/a:b")).toThrow(/its resource id segment "a:b" contains ":"/);
  });
});
