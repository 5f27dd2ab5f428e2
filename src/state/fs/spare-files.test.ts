import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { State } from "../state-store.js";
import { serializeState } from "../state-record.js";
import { DirtyPaths, TEMP_MARK } from "./durable-files.js";
import { UNFENCED } from "./stage-writes.js";
import { FileSystemStateStore } from "./fs-state-store.js";
import { applyRecordChanges } from "./record-changes.js";
import { readRecord } from "./scope-dir.js";
import { SPARE_GRACE_MS, SpareFiles } from "./spare-files.js";
import { rewrittenRecord } from "./spare-rewriter.test-fixture.js";

const record = (id: string, version: number): State => ({
  status: "created", kind: "test::Thing", id, fqn: `app/dev/${id}`, seq: version,
  data: {}, props: { version }, output: { version }, deps: [],
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("recycling the files of replaced records", () => {
  let dir: string;
  const inode = (id: string) => fs.statSync(path.join(dir, `${id}.json`)).ino;
  const write = (spares: SpareFiles, versions: Record<string, number>) =>
    applyRecordChanges(
      Object.entries(versions).map(([id, version]) => ({ file: path.join(dir, `${id}.json`), text: serializeState(record(id, version)) })),
      dir,
      new DirtyPaths(),
      spares,
    );
  const names = () => fs.readdirSync(dir).sort();

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-spares-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keeps a replaced record's file as a spare and hands it out only after its grace period", async () => {
    const spares = new SpareFiles();
    await write(spares, { a: 1 });
    const kept = performance.now(); // no later than the spare is kept: not yet past its grace period, however slow the write
    await write(spares, { a: 2 });
    expect(spares.size).toBe(1);
    expect(spares.take(dir, kept + SPARE_GRACE_MS - 1)).toBeUndefined();
    const spare = spares.take(dir, performance.now() + SPARE_GRACE_MS);
    expect(path.basename(spare!)).toContain(TEMP_MARK);
    expect(JSON.parse(fs.readFileSync(spare!, "utf8"))).toEqual(record("a", 1));
  });

  it("writes a later replacement into the spare's file, so no file is created or freed", async () => {
    if (process.platform === "win32") return;
    const spares = new SpareFiles();
    await write(spares, { a: 1, b: 1 });
    const first = inode("a");
    await write(spares, { a: 2 });
    await sleep(SPARE_GRACE_MS + 5);
    await write(spares, { b: 2 });
    expect(inode("b")).toBe(first);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "b.json"), "utf8"))).toEqual(record("b", 2));
    expect(JSON.parse(fs.readFileSync(path.join(dir, "a.json"), "utf8"))).toEqual(record("a", 2));
  });

  it("does not pass a record file whose mode was changed by hand on to another record", async () => {
    if (process.platform === "win32") return;
    const spares = new SpareFiles(UNFENCED, 0);
    await write(spares, { a: 1, b: 1 });
    fs.chmodSync(path.join(dir, "a.json"), 0o644);
    await write(spares, { a: 2 });
    expect(spares.size).toBe(0);
    await write(spares, { b: 2 });
    expect(fs.statSync(path.join(dir, "b.json")).mode & 0o777).toBe(0o600);
  });

  it("trims a spare that held a longer record to the new record's length", async () => {
    const spares = new SpareFiles(UNFENCED, 0);
    const long = { ...record("a", 1), data: { pad: "x".repeat(3000) } };
    await applyRecordChanges([{ file: path.join(dir, "a.json"), text: serializeState(long) }], dir, new DirtyPaths(), spares);
    await write(spares, { a: 2 });
    await write(spares, { a: 3 });
    expect(fs.readFileSync(path.join(dir, "a.json"), "utf8")).toBe(serializeState(record("a", 3)));
  });

  it("writes a new file when the spare was removed behind its back", async () => {
    const spares = new SpareFiles(UNFENCED, 0);
    await write(spares, { a: 1 });
    await write(spares, { a: 2 });
    for (const name of names()) if (name.includes(TEMP_MARK)) fs.unlinkSync(path.join(dir, name));
    await write(spares, { a: 3 });
    expect(names()).toEqual(expect.arrayContaining(["a.json"]));
    expect(JSON.parse(fs.readFileSync(path.join(dir, "a.json"), "utf8"))).toEqual(record("a", 3));
  });

  it("removes every spare when they are dropped, leaving only the records", async () => {
    // A grace no loaded machine outlasts: no spare kept in the second write is taken for another record of it.
    const spares = new SpareFiles(UNFENCED, 60_000);
    await write(spares, { a: 1, b: 1, c: 1 });
    await write(spares, { a: 2, b: 2, c: 2 });
    expect(names().filter((name) => name.includes(TEMP_MARK))).toHaveLength(3);
    spares.dropAll(new DirtyPaths());
    expect(names()).toEqual(["a.json", "b.json", "c.json"]);
  });

  it("leaves no spare in the stage after a store rewrote hundreds of records and closed", async () => {
    const chain = ["app", "dev"];
    for (let version = 1; version <= 3; version++) {
      const store = new FileSystemStateStore({ chain }, { dir });
      await store.init();
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.set(`r${i}`, { ...record(`r${i}`, version) })));
      await sleep(SPARE_GRACE_MS * 4);
      await store.deinit();
    }
    const stageDir = path.join(dir, "app/dev");
    const left = fs.readdirSync(stageDir);
    expect(left.filter((name) => name.includes(TEMP_MARK))).toEqual([]);
    expect(left.filter((name) => name.endsWith(".json"))).toHaveLength(300);
    expect(readRecord(stageDir, "r7", "app/dev")).toEqual(record("r7", 3));
  });

  it("never shows a reader a partial or foreign record while files are recycled under it with no grace period", async () => {
    const count = 40;
    const fixture = fileURLToPath(new URL("./spare-rewriter.test-fixture.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", fixture, dir, String(count), "1500"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    let running = true;
    void exited.then(() => (running = false));

    let reads = 0;
    while (running) {
      for (let i = 0; i < count; i++) {
        const found = readRecord(dir, `r${i}`, "app/dev");
        if (found === undefined) continue; // not written yet
        const version = found.seq;
        expect(found).toEqual(rewrittenRecord(`r${i}`, version));
        reads++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await exited).toBe(0);
    const [, rewrites, , recycled] = out.trim().split(" ").map(Number);
    expect(rewrites).toBeGreaterThan(count * 10);
    expect(recycled).toBeGreaterThan(rewrites! / 2);
    expect(reads).toBeGreaterThan(count * 10);
  }, 20_000);
});
