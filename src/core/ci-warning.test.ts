import { afterEach, describe, expect, it, vi } from "vitest";
import { alchemy, memoryState, tempDir } from "./world.test-fixture.js";

const saved = process.env.CI;
afterEach(() => {
  if (saved === undefined) delete process.env.CI;
  else process.env.CI = saved;
  vi.restoreAllMocks();
});

describe("under CI=true", () => {
  it("warns that the default filesystem state is lost with the runner, and says nothing when a store is configured", async () => {
    process.env.CI = "true";
    const tmp = tempDir();
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      await (await alchemy("app", { stage: "ci", rootDir: tmp.dir, quiet: true })).finalize();
      expect(printed.mock.calls.map((c) => String(c[0]))).toEqual([
        expect.stringContaining(`Application "app" keeps its state in ${tmp.dir}/.alchemy on this CI runner, which is lost when the job ends`),
      ]);
      printed.mockClear();
      await (await alchemy("app", memoryState().options({ rootDir: tmp.dir }))).finalize();
      expect(printed).not.toHaveBeenCalled();
    } finally {
      tmp.remove();
    }
  });
});
