import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Sqlite from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SQLiteStateStore } from "./sqlite-state-store.js";
import { DELETE_EVERY, WRITER_CHAINS, writerRecord } from "./sqlite-writer.test-fixture.js";

const repo = fileURLToPath(new URL("../../..", import.meta.url));
const fixture = fileURLToPath(new URL("./sqlite-writer.test-fixture.ts", import.meta.url));

/** Starts the writer fixture in a child process. */
function writer(...args: string[]) {
  const child = spawn(
    process.execPath,
    ["--import", path.join(repo, "node_modules/tsx/dist/loader.mjs"), "--conditions", "source", fixture, ...args],
    { cwd: repo, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe("SQLiteStateStore shared by several processes", () => {
  let dir: string;
  let filename: string;
  const stores: SQLiteStateStore[] = [];
  const open = async (chain: readonly string[]) => {
    const store = new SQLiteStateStore({ chain }, { filename });
    stores.push(store);
    await store.init();
    return store;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-sqlite-procs-"));
    filename = path.join(dir, "state.sqlite");
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.deinit();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("two processes writing different records to the same file at the same time lose nothing", { timeout: 60_000 }, async () => {
    const count = 1500;
    const startAt = Date.now() + 2500; // both children are loaded by then, so their writes overlap
    const children = ["left", "right"].map((name) => writer("burst", filename, name, String(count), String(startAt)));
    for (const { exited, output } of children) {
      const { code } = await exited;
      expect(code, output().stderr).toBe(0);
      expect(output().stdout).toBe("done\n");
    }
    for (const [scope, chain] of WRITER_CHAINS.entries()) {
      const all = await (await open(chain)).all();
      const expected = ["left", "right"].flatMap((name) =>
        Array.from({ length: count }, (_, n) => n).filter((n) => n % WRITER_CHAINS.length === scope).map((n) => `${name}-${n}`),
      );
      expect(Object.keys(all).sort()).toEqual(expected.sort());
      for (const id of expected) expect(all[id], id).toEqual(writerRecord(chain, id));
    }
  });

  it("keeps every acknowledged write, and only whole records, when the writing process is killed with SIGKILL", { timeout: 60_000 }, async () => {
    const { child, exited, output } = writer("stream", filename);
    const acked = new Map<string, "set" | "del">();
    const killAt = 300 + Math.floor(Math.random() * 1500);
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      const lines = (buffered + chunk.toString()).split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const [op, scope, id] = line.split(" ");
        acked.set(`${scope} ${id}`, op as "set" | "del");
      }
      if (acked.size >= killAt) child.kill("SIGKILL");
    });
    expect((await exited).signal, output().stderr).toBe("SIGKILL");
    expect(acked.size).toBeGreaterThanOrEqual(killAt);

    const db = new Sqlite(filename);
    try {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      db.close();
    }
    for (const [scope, chain] of WRITER_CHAINS.entries()) {
      const all = await (await open(chain)).all(); // rejects if any row does not parse
      for (const [id, record] of Object.entries(all)) expect(record, id).toEqual(writerRecord(chain, id));
      for (const [key, op] of acked) {
        const [s, id] = key.split(" ") as [string, string];
        if (Number(s) !== scope) continue;
        const deleteInFlight = op === "set" && Number(id.slice(2)) % DELETE_EVERY === 0;
        if (op === "del") expect(all[id], `${key} was deleted`).toBeUndefined();
        else if (!deleteInFlight) expect(all[id] !== undefined, `${key} was set`).toBe(true);
      }
    }
  });
});
