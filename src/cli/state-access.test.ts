import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileSystemStateStore } from "../state/fs/fs-state-store.js";
import type { State } from "../state/state-store.js";
import { runCommandBody, UsageError } from "./exit-codes.js";
import { captureIO } from "./io.test-fixture.js";
import { StateCommandError, listApps, resolveApp, withStateSession } from "./state-access.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-state-access-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const record = (chain: string[], id: string, extra: Partial<State> = {}): State => ({
  status: "created", kind: "test::Thing", id, fqn: [...chain, id].join("/"), seq: 1,
  data: {}, props: {}, output: {}, deps: [], ...extra,
});

/** Writes records through the store, then lets go of it as a finished run does. */
async function write(chain: string[], ...ids: string[]): Promise<void> {
  const store = new FileSystemStateStore({ chain }, { dir });
  await store.init();
  try {
    for (const id of ids) await store.set(id, record(chain, id));
  } finally {
    await store.deinit();
  }
}

describe("listApps", () => {
  it("names the application directories, not ~ or hidden entries or files, and nothing for a missing directory", () => {
    for (const name of ["shop", "blog", "~trash", ".cache"]) fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, "notes.txt"), "");
    expect(listApps(dir)).toEqual(["blog", "shop"]);
    expect(listApps(path.join(dir, "missing"))).toEqual([]);
  });
});

describe("resolveApp", () => {
  it("takes --app as given, checking that it is a name", () => {
    expect(resolveApp(dir, "shop")).toBe("shop");
    expect(() => resolveApp(dir, "a/b")).toThrow(UsageError);
  });

  it("defaults to the only application, and otherwise names the directory and what it found", async () => {
    expect(() => resolveApp(dir)).toThrow(StateCommandError);
    expect(() => resolveApp(dir)).toThrow(`No application is recorded in the state directory ${dir}.`);
    await write(["shop", "dev"], "api");
    expect(resolveApp(dir)).toBe("shop");
    await write(["blog", "dev"], "web");
    expect(() => resolveApp(dir)).toThrow(new UsageError(`The state directory ${dir} holds several applications (blog, shop): choose one with --app <name>.`));
  });
});

describe("StateSession", () => {
  it("walks a stage's scopes at every depth, parents first, siblings by name", async () => {
    await write(["shop", "dev"], "web", "api");
    await write(["shop", "dev", "backend"], "db");
    await write(["shop", "dev", "backend", "db"], "user");
    await write(["shop", "dev", "auth"], "key");
    await write(["shop", "prod"], "other");
    const scopes = await withStateSession(dir, (session) => session.walk(["shop", "dev"]));
    expect(scopes.map((s) => [s.chain.join("/"), s.records.map((r) => r.id)])).toEqual([
      ["shop/dev", ["api", "web"]],
      ["shop/dev/auth", ["key"]],
      ["shop/dev/backend", ["db"]],
      ["shop/dev/backend/db", ["user"]],
    ]);
  });

  it("sees the changes a crashed run left only in the stage's journal", async () => {
    const stageDir = path.join(dir, "shop", "dev");
    fs.mkdirSync(stageDir, { recursive: true });
    const db = record(["shop", "dev", "backend"], "db");
    fs.writeFileSync(path.join(stageDir, "~journal"), JSON.stringify({ op: "set", path: ["backend", "db"], state: db }) + "\n");
    expect(fs.existsSync(path.join(stageDir, "backend", "db.json"))).toBe(false);
    const scopes = await withStateSession(dir, (session) => session.walk(["shop", "dev"]));
    expect(scopes.flatMap((s) => s.records)).toEqual([db]);
  });

  it("sees this process's acknowledged writes, whether or not their record files are written yet", async () => {
    const writer = new FileSystemStateStore({ chain: ["shop", "dev"] }, { dir });
    await writer.init();
    try {
      await writer.set("api", record(["shop", "dev"], "api"));
      await writer.delete("api");
      await writer.set("web", record(["shop", "dev"], "web"));
      const scopes = await withStateSession(dir, (session) => session.walk(["shop", "dev"]));
      expect(scopes.flatMap((s) => s.records.map((r) => r.id))).toEqual(["web"]);
    } finally {
      await writer.deinit();
    }
  });

  it("opens one store per scope and closes them all, also when the body fails", async () => {
    const journal = path.join(dir, "shop", "dev", "~journal");
    const failing = withStateSession(dir, async (session) => {
      const store = await session.open(["shop", "dev"]);
      expect(await session.open(["shop", "dev"])).toBe(store);
      await store.set("api", record(["shop", "dev"], "api"));
      expect(fs.statSync(journal).size).toBeGreaterThan(0);
      throw new Error("boom");
    });
    await expect(failing).rejects.toThrow("boom");
    // The stage's journal was let go of: its last release checkpoints it to empty.
    expect(fs.statSync(journal).size).toBe(0);
    expect(fs.existsSync(path.join(dir, "shop", "dev", "api.json"))).toBe(true);
  });
});

describe("runCommandBody", () => {
  it("prints an engine error such as a corrupt record and exits 1, leaving usage errors to the caller", async () => {
    await write(["shop", "dev"], "api");
    fs.writeFileSync(path.join(dir, "shop", "dev", "api.json"), "{");
    const io = captureIO(dir);
    const code = await runCommandBody(io, () => withStateSession(dir, async (session) => (await session.walk(["shop", "dev"])).length));
    expect(code).toBe(1);
    expect(io.err()).toMatch(/^error: State file .*api\.json is not valid JSON/);
    await expect(runCommandBody(io, async () => { throw new UsageError("bad"); })).rejects.toThrow(UsageError);
    await expect(runCommandBody(io, async () => { throw new TypeError("bug"); })).rejects.toThrow(TypeError);
  });
});
