import { closeSync, existsSync, openSync, readdirSync, unlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { alchemy, Resource, type Context } from "alchemy";
import { useTestProject } from "../providers/test-project.test-fixture.js";
import { ScopeError } from "./errors.js";
import { MAX_NAME_BYTES, nameProblem } from "./names.js";

/** `chars` CJK characters (3 bytes each in UTF-8), padded with ASCII to `bytes`. */
function cjkName(bytes: number): string {
  const chars = Math.floor(bytes / 3);
  return "資".repeat(chars) + "a".repeat(bytes - chars * 3);
}

let calls: string[] = [];
const Named = Resource("test::NamedProbe", async function (this: Context<object, unknown>, id: string): Promise<object> {
  calls.push(`${this.phase} ${id}`);
  if (this.phase === "delete") return this.destroy();
  return { id };
});

const project = useTestProject("alchemy-names-");

describe("name length", () => {
  it(`counts UTF-8 bytes, allowing ${MAX_NAME_BYTES} and refusing one more`, () => {
    expect(nameProblem("a".repeat(MAX_NAME_BYTES))).toBeUndefined();
    expect(nameProblem(cjkName(MAX_NAME_BYTES))).toBeUndefined();
    expect(nameProblem("a".repeat(MAX_NAME_BYTES + 1))).toBe(`is ${MAX_NAME_BYTES + 1} bytes long in UTF-8, more than the ${MAX_NAME_BYTES} a name may take as a file name`);
    expect(nameProblem(cjkName(MAX_NAME_BYTES + 1))).toMatch(/^is 201 bytes long in UTF-8/);
    // 90 CJK characters: under 200 characters, but 270 bytes.
    expect(nameProblem("資".repeat(90))).toMatch(/^is 270 bytes long in UTF-8/);
    expect(nameProblem("😀".repeat(51))).toMatch(/^is 204 bytes long in UTF-8/);
  });

  it("leaves room in the file name for the longest temp-file suffix the filesystem store adds", async () => {
    calls = [];
    const id = cjkName(MAX_NAME_BYTES);
    const scope = cjkName(MAX_NAME_BYTES - 1);
    await project.deploy(async () => {
      await Named(id, {});
      await alchemy.run(scope, async () => void (await Named(id, {})));
    });
    expect(calls).toEqual([`create ${id}`, `create ${id}`]);
    const stageDir = path.join(project.root, ".alchemy", "test-app", "t");
    expect(existsSync(path.join(stageDir, `${id}.json`))).toBe(true);
    expect(existsSync(path.join(stageDir, scope, `${id}.json`))).toBe(true);
    // `<id>.json~tmp-<pid, base 36, at most 5>-<8 hex>-<counter, base 36, at most 11>`: the file system takes it.
    const longestTemp = path.join(stageDir, `${id}.json~tmp-${(2 ** 22).toString(36)}-ffffffff-${Number.MAX_SAFE_INTEGER.toString(36)}`);
    expect(Buffer.byteLength(path.basename(longestTemp))).toBeLessThanOrEqual(255);
    closeSync(openSync(longestTemp, "wx"));
    unlinkSync(longestTemp);
    // The next deploy reads both records back and sees no change.
    await project.deploy(async () => {
      await Named(id, {});
      await alchemy.run(scope, async () => void (await Named(id, {})));
    });
    expect(calls).toHaveLength(2);
  });

  it("refuses an id one byte over the limit before any state is written or handler called", async () => {
    calls = [];
    const id = cjkName(MAX_NAME_BYTES + 1);
    const error = await project.deploy(() => Named(id, {})).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ScopeError);
    expect((error as Error).message).toBe(
      `Invalid resource id "${id.slice(0, 60)}…" in "test-app/t": it is ${MAX_NAME_BYTES + 1} bytes long in UTF-8, more than the ${MAX_NAME_BYTES} a name may take as a file name. ` +
        "Use a shorter resource id (letters outside ASCII take 2 to 4 bytes each).",
    );
    expect(calls).toEqual([]);
    const stageDir = path.join(project.root, ".alchemy", "test-app", "t");
    expect(existsSync(stageDir) ? readdirSync(stageDir).filter((name) => name.endsWith(".json") && !name.startsWith("~")) : []).toEqual([]);
  });
});
