import path from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../exit-codes.js";
import { captureIO } from "../io.test-fixture.js";
import { unlock } from "./unlock.js";

const cwd = path.join(path.sep, "home", "ada", "shop");
const dir = path.join(cwd, ".alchemy");

describe("alchemy unlock", () => {
  it("says that the filesystem store does not lock stages, and exits 0", async () => {
    const io = captureIO(cwd);
    expect(await unlock({ state: ".alchemy", stage: "prod" }, io)).toBe(0);
    expect(io.out()).toBe("");
    expect(io.err()).toBe(
      `State locking is not enabled for the filesystem store at ${dir}, so stage "prod" has no lock to release. Nothing to do.\n`,
    );
  });

  it("names the application when --app is given", async () => {
    const io = captureIO(cwd);
    expect(await unlock({ state: "state", app: "shop", stage: "prod" }, io)).toBe(0);
    expect(io.err()).toContain(`filesystem store at ${path.join(cwd, "state")}, so stage "prod" of app "shop" has no lock`);
  });

  it("exits 1 when asked for a lock id, since no lock has it", async () => {
    const io = captureIO(cwd);
    expect(await unlock({ state: ".alchemy", stage: "prod", lockId: "lock-42" }, io)).toBe(1);
    expect(io.err()).toMatch(/^error: No lock with id "lock-42": state locking is not enabled for the filesystem store at .*, so stage "prod" has no lock to release\./);
  });

  it("rejects a stage or app that is not a valid name as a usage error", async () => {
    await expect(unlock({ state: ".alchemy", stage: "../prod" }, captureIO(cwd))).rejects.toThrow(UsageError);
    await expect(unlock({ state: ".alchemy", app: "a/b", stage: "prod" }, captureIO(cwd))).rejects.toThrow(/application "a\/b" \(from --app\)/);
  });
});
