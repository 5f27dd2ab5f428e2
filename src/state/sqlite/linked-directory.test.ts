import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SQLiteStateStore } from "./sqlite-state-store.js";
import { testRecord } from "./sqlite-file.test-fixture.js";

const temps: string[] = [];
afterEach(() => temps.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-sqlite-linked-"));
  temps.push(dir);
  return dir;
}

const STAGE = ["app", "dev"];

/** Writes one record through a store of `filename`, reads it back, and lets the store go. */
async function roundTrip(filename: string): Promise<void> {
  const store = new SQLiteStateStore({ chain: STAGE }, { filename });
  try {
    await store.init?.();
    await store.set("api", testRecord(STAGE, "api"));
    expect(await store.get("api")).toEqual(testRecord(STAGE, "api"));
  } finally {
    await store.deinit?.();
  }
}

describe("a SQLite state database below a directory the user linked elsewhere", () => {
  it("opens in the linked directory itself, and in new directories made below the link", async () => {
    const project = tempDir();
    const disk = tempDir();
    fs.symlinkSync(disk, path.join(project, "data"));
    await roundTrip(path.join(project, "data", "state.sqlite"));
    expect(fs.existsSync(path.join(disk, "state.sqlite"))).toBe(true);
    await roundTrip(path.join(project, "data", "new", "deeper", "state.sqlite"));
    expect(fs.existsSync(path.join(disk, "new", "deeper", "state.sqlite"))).toBe(true);
    expect(fs.statSync(path.join(disk, "new")).mode & 0o777).toBe(0o700);
  });
});
