/**
 * The history of a stage in the file-system store: `<stage dir>/~history/`,
 * two files per entry, `<run>.entry` (the entry's JSON) and `<run>.snapshot`
 * (the snapshot, base64): neither ends in `.json`, so no tool that looks for
 * record files takes one for a record. The snapshot is written first and the entry last, each
 * durably (temp file, fsync, rename, fsync of the directory) through the lock
 * holder's fence, after the same check a journal commit makes; an entry
 * exists once its `.entry` does, so a crash in between leaves a stray
 * snapshot, which the next append of that run replaces and a deletion
 * removes. Removal goes the other way: entry first.
 *
 * The `~` keeps the directory apart from scopes: it is never listed, and a
 * stage holding only history is not listed by the application's
 * `listScopes`. The directory goes with its last entry, so that a stage
 * the engine empties (and forgets) leaves no directory behind.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { StateStoreError, toError } from "../../core/errors.js";
import { historyEntryText, newestFirst, parseHistoryEntry } from "../history-items.js";
import type { HistoryItem, HistoryListing } from "../state-store.js";
import { errorCode, fsyncPath, replaceFileDurably } from "./durable-files.js";
import type { StageWrites } from "./stage-writes.js";

/** Name of the history directory in a stage directory. */
export const HISTORY_DIR_NAME = "~history";

const ENTRY = ".entry";
const SNAPSHOT = ".snapshot";

/** Writes `item` into the history of the stage at `stageDir`; the caller checks the fence first. */
export function writeHistoryItem(stageDir: string, item: HistoryItem, writes: StageWrites): void {
  const dir = path.join(stageDir, HISTORY_DIR_NAME);
  const text = historyEntryText(item, dir);
  attempt(dir, "write", () => {
    replaceFileDurably(path.join(dir, item.run + SNAPSHOT), Buffer.from(item.snapshot).toString("base64"), writes);
    replaceFileDurably(path.join(dir, item.run + ENTRY), text, writes);
  });
}

/** The entries of the stage at `stageDir`, newest first. */
export function readHistoryEntries(stageDir: string, limit?: number): HistoryListing[] {
  const dir = path.join(stageDir, HISTORY_DIR_NAME);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith(ENTRY) && !name.includes("~"));
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return [];
    throw fileError(dir, "read", error);
  }
  const runs = newestFirst(names.map((name) => ({ run: name.slice(0, -ENTRY.length) })), limit);
  return runs.map(({ run }) => parseHistoryEntry(run, readText(path.join(dir, run + ENTRY)), dir));
}

/** The snapshot of entry `run`, or `undefined` when there is no such entry. */
export function readHistorySnapshot(stageDir: string, run: string): Uint8Array | undefined {
  const dir = path.join(stageDir, HISTORY_DIR_NAME);
  if (readText(path.join(dir, run + ENTRY)) === undefined) return undefined;
  const text = readText(path.join(dir, run + SNAPSHOT));
  if (text === undefined) {
    throw new StateStoreError(`The history entry ${path.join(dir, run + ENTRY)} has no snapshot beside it. Restore it from a backup, or remove the entry.`, dir);
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** Removes the entries `runs` of the stage at `stageDir`; the caller checks the fence first. */
export function removeHistoryItems(stageDir: string, runs: string[], writes: StageWrites): void {
  if (runs.length === 0) return;
  const dir = path.join(stageDir, HISTORY_DIR_NAME);
  attempt(dir, "remove", () => {
    for (const run of runs) {
      for (const suffix of [ENTRY, SNAPSHOT]) {
        try {
          writes.unlink(path.join(dir, run + suffix));
        } catch (error) {
          if (errorCode(error) !== "ENOENT" && errorCode(error) !== "ENOTDIR") throw error;
        }
      }
    }
    if (!fs.existsSync(dir)) return;
    fsyncPath(dir);
    try {
      writes.rmdir(dir); // gone once empty, so that an emptied stage leaves no directory behind
      fsyncPath(stageDir);
    } catch (error) {
      if (errorCode(error) !== "ENOTEMPTY" && errorCode(error) !== "EEXIST" && errorCode(error) !== "ENOENT") throw error;
    }
  });
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return undefined;
    throw fileError(file, "read", error);
  }
}

function attempt(dir: string, doing: "write" | "remove", body: () => void): void {
  try {
    body();
  } catch (error) {
    if (!errorCode(error)) throw toError(error); // a refused write (the lock is lost) says so itself
    throw fileError(dir, doing, error);
  }
}

function fileError(where: string, doing: string, error: unknown): StateStoreError {
  return new StateStoreError(`Cannot ${doing} the stage history at ${where}: ${toError(error).message}. Check the directory's owner and permissions.`, where, { cause: error });
}
