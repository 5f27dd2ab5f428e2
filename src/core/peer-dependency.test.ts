import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { importPeer, requirePeer, resolvePeer } from "./peer-dependency.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A project whose node_modules holds a package `name` exporting `{ from: "project" }`. */
function projectWith(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "alchemy-peer-"));
  dirs.push(dir);
  const pkg = path.join(dir, "node_modules", name);
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name, version: "9.9.9", main: "index.js" }));
  writeFileSync(path.join(pkg, "index.js"), `module.exports = { from: "project" };`);
  return dir;
}

describe("optional peer dependencies", () => {
  it("are found in the user's project first, even when alchemy itself is linked from elsewhere", async () => {
    const dir = projectWith("pg");
    expect(resolvePeer("pg", dir)).toBe(path.join(dir, "node_modules", "pg", "index.js"));
    expect(requirePeer<{ from: string }>("pg", dir).from).toBe("project");
    expect((await importPeer<{ default: { from: string } }>("pg", dir)).default.from).toBe("project");
  });

  it("are found beside alchemy when the project has none", () => {
    const empty = mkdtempSync(path.join(tmpdir(), "alchemy-peer-"));
    dirs.push(empty);
    expect(resolvePeer("pg", empty)).toMatch(/node_modules\/pg\//);
    expect(resolvePeer("no-such-package-anywhere", empty)).toBeUndefined();
    expect(() => requirePeer("no-such-package-anywhere", empty)).toThrow(/Cannot find module/);
  });
});
