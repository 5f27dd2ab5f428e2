/**
 * Child process of the spare-file reader test: rewrites the records
 * `r0`…`r<count-1>` of `<dir>` over and over for `<ms>` milliseconds, each
 * time with a new version and a different length, recycling replaced files
 * with no grace period at all, so that readers in the parent meet files being
 * rewritten under them. Prints `rewrites <n> recycled <m>` and exits.
 *
 * Run: node --import tsx spare-rewriter.test-fixture.ts <dir> <count> <ms>
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { State } from "../state-store.js";
import { DirtyPaths } from "./durable-files.js";
import { serializeState } from "../state-record.js";
import { applyRecordChanges } from "./record-changes.js";
import { UNFENCED } from "./stage-writes.js";
import { SpareFiles } from "./spare-files.js";

/** Version `version` of record `id`: its length varies with the version (up to ~5 KB). */
export function rewrittenRecord(id: string, version: number): State {
  return {
    status: "created", kind: "test::Rewritten", id, fqn: `app/dev/${id}`, seq: version,
    data: { pad: "x".repeat((version * 37) % 5000) }, props: { version }, output: { version }, deps: [],
  };
}

async function main(dir: string, count: number, ms: number): Promise<void> {
  const spares = new SpareFiles(UNFENCED, 0);
  const dirty = new DirtyPaths();
  const seen = new Set<bigint>();
  let rewrites = 0;
  let recycled = 0;
  const end = performance.now() + ms;
  for (let version = 1; performance.now() < end; version++) {
    const changes = [];
    for (let i = 0; i < count; i++) {
      const id = `r${i}`;
      changes.push({ file: path.join(dir, `${id}.json`), text: serializeState(rewrittenRecord(id, version)) });
    }
    await applyRecordChanges(changes, dir, dirty, spares);
    for (const { file } of changes) {
      const ino = fs.statSync(file, { bigint: true }).ino;
      if (seen.has(ino)) recycled++;
      seen.add(ino);
    }
    rewrites += count;
  }
  spares.dropAll(dirty);
  process.stdout.write(`rewrites ${rewrites} recycled ${recycled}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  await main(process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]));
}
