/**
 * Reading a scope directory of the file-system store: `<id>.json` files are
 * records, directories with valid names are child scopes, anything else (the
 * journal, temp files, a user's notes) is ignored. A missing directory reads
 * as an empty scope. A symbolic link where a record or a scope could be is
 * an error naming it: the store never follows links in its state directory.
 *
 * Reads are synchronous: one small file is a few syscalls, and going through
 * the thread pool would cost more than the read (5,000 records read in
 * roughly 40–80 ms here, see the test).
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { StateStoreError, toError } from "../../core/errors.js";
import { nameProblem } from "../../core/names.js";
import type { State } from "../state-store.js";
import { errorCode } from "./durable-files.js";
import type { PendingChanges } from "./pending-changes.js";
import { O_NOFOLLOW } from "./stage-writes.js";
import { parseStateFile, putEntry } from "../state-record.js";

/** Suffix of a record file. */
export const RECORD_SUFFIX = ".json";

/**
 * The id of the record stored in the file `name`, or `undefined` when `name`
 * is not a record file name.
 *
 * @example
 * recordIdOf("api.json"); // "api"
 * recordIdOf("api.json~tmp-1a2b"); // undefined
 */
export function recordIdOf(name: string): string | undefined {
  if (!name.endsWith(RECORD_SUFFIX)) return undefined;
  const id = name.slice(0, -RECORD_SUFFIX.length);
  return nameProblem(id) === undefined ? id : undefined;
}

/**
 * How a record is read: `checked` compares the file before and after reading
 * (needed while another process may be writing the stage), `unchecked` skips
 * that, for the process holding the stage's lock, which is its only writer.
 */
export type ReadMode = "checked" | "unchecked";

/**
 * The record `id` stored in `dir`, or `undefined` if there is none.
 * `fqnPrefix` is the scope path used in error messages.
 *
 * @example
 * readRecord("/abs/.alchemy/app/dev", "api", "app/dev"); // State | undefined
 */
export function readRecord(dir: string, id: string, fqnPrefix: string, mode: ReadMode = "checked"): State | undefined {
  const file = path.join(dir, id + RECORD_SUFFIX);
  for (let attempt = 1; ; attempt++) {
    let read: FileRead | undefined;
    try {
      read = readWholeFile(file, mode);
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      if (code === "ELOOP") throw linkRefused(file, "record file");
      throw unreadable(file, error);
    }
    const retry = attempt < READ_ATTEMPTS;
    if (read === undefined) {
      if (retry) continue;
      throw new StateStoreError(
        `State file ${file} changed every time it was read (${READ_ATTEMPTS} times). ` +
          `Another process is rewriting it; read the state again once that process is done.`,
        file,
      );
    }
    try {
      return parseStateFile(read.text, file, id, `${fqnPrefix}/${id}`);
    } catch (error) {
      // A file replaced since it was read is read again; one that is still the same file is damaged.
      if (!retry || !replacedSince(file, read)) throw error;
    }
  }
}

/**
 * Why the record file `file` could not be written, or `undefined`: a directory
 * in its place, or a file where one of its scope directories should be (a
 * scope named `api.json` next to a record `api`). Checked before a write is
 * journaled, so a write that can never be applied is refused instead of kept.
 *
 * @example
 * recordPathProblem("/abs/.alchemy/app/dev/api.json"); // undefined when writable
 */
export function recordPathProblem(file: string): string | undefined {
  try {
    // No exception for the common case, a record not written yet: one costs more than the stat.
    const stat = fs.lstatSync(file, { throwIfNoEntry: false });
    if (stat?.isDirectory()) return `${file} is a directory`;
    if (stat?.isSymbolicLink()) return `${file} is a symbolic link, which alchemy never follows in its state directory`;
  } catch (error) {
    if (errorCode(error) === "ENOTDIR") return `a file stands where a directory of ${file} should be`;
    if (errorCode(error) !== "ENOENT") throw unreadable(file, error);
  }
  return undefined;
}

/**
 * Ids of the record files directly in `dir`.
 *
 * @example
 * listRecordIds("/abs/.alchemy/app/dev"); // ["api", "web"]
 */
export function listRecordIds(dir: string): string[] {
  const ids: string[] = [];
  for (const entry of readEntries(dir)) {
    const id = entry.isFile() ? recordIdOf(entry.name) : undefined;
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/**
 * Every record directly in `dir`, keyed by id.
 *
 * @example
 * readAllRecords("/abs/.alchemy/app/dev", "app/dev"); // { api: {...}, web: {...} }
 */
export function readAllRecords(dir: string, fqnPrefix: string, mode: ReadMode = "checked"): Record<string, State> {
  const records: Record<string, State> = {};
  for (const id of listRecordIds(dir)) {
    const state = readRecord(dir, id, fqnPrefix, mode);
    if (state !== undefined) putEntry(records, id, state); // undefined: deleted meanwhile
  }
  return records;
}

/**
 * The record ids of every scope directory at and below `dir`, and the child
 * scopes of each: what listing a scope's children needs, read in one go so
 * that a reader can lay the journal's changes over it afterwards.
 */
export interface ScopeTree {
  ids: Map<string, string[]>;
  children: Map<string, string[]>;
}

/**
 * Reads the {@link ScopeTree} at `dir` (empty when it does not exist).
 *
 * @example
 * const tree = readScopeTree("/abs/.alchemy/app/dev");
 */
export function readScopeTree(dir: string): ScopeTree {
  const tree: ScopeTree = { ids: new Map(), children: new Map() };
  const walk = (d: string) => {
    const ids: string[] = [];
    const children: string[] = [];
    for (const entry of readEntries(d)) {
      if (entry.isFile()) {
        const id = recordIdOf(entry.name);
        if (id !== undefined) ids.push(id);
      } else if (isScopeDir(entry)) children.push(entry.name);
    }
    tree.ids.set(d, ids);
    tree.children.set(d, children);
    for (const child of children) walk(path.join(d, child));
  };
  walk(dir);
  return tree;
}

/**
 * Names of the child scopes of `dir` that hold a record somewhere below,
 * in `tree` with `pending` laid over it: a record written there and not
 * removed since, whether in a file or only in the journal yet.
 *
 * @example
 * listChildScopes(readScopeTree(dir), dir, journal); // ["backend", "frontend"]
 */
export function listChildScopes(tree: ScopeTree, dir: string, pending?: PendingChanges): string[] {
  const names = new Set(tree.children.get(dir) ?? []);
  const written = pending?.childDirs(dir).written;
  for (const name of written ?? []) names.add(name);
  return [...names].filter((name) => written?.has(name) || holdsRecords(tree, path.join(dir, name), pending));
}

/**
 * True when the scope `dir` or one below it holds a record in `tree` with
 * `pending` laid over it.
 *
 * @example
 * holdsRecords(readScopeTree(stageDir), stageDir, journal); // false for an emptied stage
 */
export function holdsRecords(tree: ScopeTree, dir: string, pending?: PendingChanges): boolean {
  const changes = pending?.in(dir);
  for (const text of changes?.values() ?? []) if (text !== null) return true;
  for (const id of tree.ids.get(dir) ?? []) if (changes?.get(id + RECORD_SUFFIX) !== null) return true;
  if (pending !== undefined && pending.childDirs(dir).written.size > 0) return true;
  return (tree.children.get(dir) ?? []).some((child) => holdsRecords(tree, path.join(dir, child), pending));
}

/**
 * Refuses a symbolic link (or a file) in place of a directory on the way
 * from `root` (not checked: it may be a link the user chose) down to `dir`.
 * Parts that do not exist yet are fine.
 *
 * @throws StateStoreError naming the link.
 * @example
 * assertRealDirectories("/abs/.alchemy", "/abs/.alchemy/app/dev/backend");
 */
export function assertRealDirectories(root: string, dir: string): void {
  const relative = path.relative(root, dir);
  if (relative === "" || relative.startsWith("..")) return;
  let current = root;
  for (const part of relative.split(path.sep)) {
    current = path.join(current, part);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(current, { throwIfNoEntry: false });
    } catch (error) {
      if (errorCode(error) === "ENOTDIR") return; // a file above: reading finds nothing, writing says so
      throw unreadable(current, error);
    }
    if (stat === undefined) return;
    if (stat.isSymbolicLink()) throw linkRefused(current, "scope directory");
    if (!stat.isDirectory()) return;
  }
}

/** Reads of one record before it counts as changing too often to be read. */
const READ_ATTEMPTS = 20;

/** Reused by every read: most records fit, which saves an allocation per file. */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

/** The text of a file and, when checked, the identity of the file it was read from. */
interface FileRead {
  text: string;
  ino?: bigint;
  ctimeNs?: bigint;
}

/**
 * The whole text of `file`, or `undefined` when the file changed while it was
 * read (checked: its ctime or size moved between an fstat before and one
 * after). The writer recycles replaced record files (`spare-files.ts`), so a
 * reader that opened a record just before it was replaced could otherwise read
 * a file being rewritten with another record's text.
 */
function readWholeFile(file: string, mode: ReadMode): FileRead | undefined {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW);
  try {
    const before = mode === "checked" ? fs.fstatSync(fd, { bigint: true }) : undefined;
    let length = fs.readSync(fd, readBuffer, 0, readBuffer.length, 0);
    let text: string;
    if (length < readBuffer.length) {
      text = readBuffer.toString("utf8", 0, length);
    } else {
      const chunks = [Buffer.from(readBuffer)];
      for (let chunk = Buffer.allocUnsafe(1 << 20), n; (n = fs.readSync(fd, chunk, 0, chunk.length, length)) > 0; length += n) {
        chunks.push(Buffer.from(chunk.subarray(0, n)));
      }
      text = Buffer.concat(chunks).toString("utf8");
    }
    if (before === undefined) return { text };
    const after = fs.fstatSync(fd, { bigint: true });
    if (after.ctimeNs !== before.ctimeNs || after.size !== before.size || after.size !== BigInt(length)) return undefined;
    return { text, ino: after.ino, ctimeNs: after.ctimeNs };
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether the name `file` now stands for another file, or the file read has changed, since `read`. */
function replacedSince(file: string, read: FileRead): boolean {
  if (read.ino === undefined) return false;
  try {
    const now = fs.statSync(file, { bigint: true });
    return now.ino !== read.ino || now.ctimeNs !== read.ctimeNs;
  } catch {
    return true;
  }
}

function isScopeDir(entry: fs.Dirent): boolean {
  return entry.isDirectory() && nameProblem(entry.name) === undefined;
}

function readEntries(dir: string): fs.Dirent[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw unreadable(dir, error);
  }
  for (const entry of entries) {
    if (!entry.isSymbolicLink()) continue;
    if (recordIdOf(entry.name) !== undefined) throw linkRefused(path.join(dir, entry.name), "record file");
    if (nameProblem(entry.name) === undefined) throw linkRefused(path.join(dir, entry.name), "scope directory");
  }
  return entries;
}

/**
 * The error refusing the symbolic link `target` found where a `what` (a
 * record file, a scope directory) of the state directory should be.
 *
 * @example
 * throw linkRefused("/abs/.alchemy/app/dev", "scope directory");
 */
export function linkRefused(target: string, what: string): StateStoreError {
  return new StateStoreError(
    `The ${what} ${target} is a symbolic link. alchemy never follows links in its state directory, so that state cannot be read from ` +
      "or written to anywhere else: replace the link with the real file or directory (or remove it, and check who put it there), then run again.",
    target,
  );
}

function unreadable(target: string, error: unknown): StateStoreError {
  const cause = toError(error);
  return new StateStoreError(
    `Cannot read state at ${target}: ${cause.message}. Check that the directory and its files belong to ` +
      `the user running alchemy (modes 0700 for directories, 0600 for files).`,
    target,
    { cause },
  );
}
