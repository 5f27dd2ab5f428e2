/**
 * How a process that does not hold a stage's lock reads the stage: the
 * record files, plus the changes its journal acknowledged that may not be
 * in the files yet, kept in memory. It never writes, renames, truncates or
 * removes anything: only the lock holder (`journal.ts`) does, and only the
 * next lock holder replays a crashed run's journal.
 *
 * Why it is consistent: the holder appends a change to the journal before
 * it writes the record file, and empties the journal only by replacing the
 * file (a checkpoint, once every record file is written and durable). A
 * reader looks at the journal, reads the files, and looks again. If the
 * journal is the same file both times (it keeps the first one open, so its
 * inode number cannot be reused), no checkpoint happened in between: the
 * files hold at least what the last checkpoint wrote, and the journal holds
 * everything acknowledged since, up to the second look. The journal's last
 * change of a record wins over its file. If the journal was replaced, the
 * read is made again.
 *
 * The journal is read incrementally: each look reads only the bytes
 * appended since the last one, and only whole lines.
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { StateStoreError, toError } from "../../core/errors.js";
import { errorCode } from "./durable-files.js";
import { decodeLines } from "./journal-entry.js";
import { childDirsOf, type PendingChanges } from "./pending-changes.js";
import { JOURNAL_NAME } from "./stage-layout.js";
import { O_NOFOLLOW } from "./stage-writes.js";

/** Reads of a stage before it counts as changing too fast to be read. */
const SNAPSHOT_ATTEMPTS = 20;

/**
 * The journal of the stage at `stageDir`, as a reader sees it.
 *
 * @example
 * const reader = new JournalReader("/abs/.alchemy/app/dev");
 * const { result: names, pending } = reader.read(() => fs.readdirSync(dir));
 * reader.close();
 */
export class JournalReader implements PendingChanges {
  readonly file: string;
  #fd: number | undefined;
  #ino: bigint | undefined;
  /** Bytes of the journal consumed so far (whole lines only). */
  #offset = 0;
  /** Set at a damaged line: what follows it was never acknowledged. */
  #damaged = false;
  /** The latest acknowledged change of each record file: its record as JSON, or null for a removal; by directory then file name. */
  readonly #latest = new Map<string, Map<string, string | null>>();

  constructor(readonly stageDir: string) {
    this.file = path.join(stageDir, JOURNAL_NAME);
  }

  /**
   * Runs `readFiles` between two looks at the journal and returns its result;
   * `this` then holds the journal's changes as of the second look.
   *
   * @throws StateStoreError when the journal was replaced during every one of 20 reads.
   */
  read<T>(readFiles: () => T): T {
    for (let attempt = 1; attempt <= SNAPSHOT_ATTEMPTS; attempt++) {
      const before = this.#look();
      const result = readFiles();
      if (this.#look() === before) return result;
    }
    throw new StateStoreError(
      `The journal ${this.file} was replaced during each of ${SNAPSHOT_ATTEMPTS} reads of the stage: the run holding the stage is checkpointing constantly. Read again once it is done.`,
      this.file,
    );
  }

  text(file: string): string | null | undefined {
    return this.#latest.get(path.dirname(file))?.get(path.basename(file));
  }

  in(dir: string): Map<string, string | null> {
    return new Map(this.#latest.get(dir) ?? []);
  }

  childDirs(dir: string): { written: Set<string>; removals: boolean } {
    return childDirsOf(this.#latest, dir, (change) => change === null);
  }

  get size(): number {
    let size = 0;
    for (const files of this.#latest.values()) size += files.size;
    return size;
  }

  /** Closes the journal descriptor kept open between reads. */
  close(): void {
    this.#reset();
  }

  /** Brings the changes up to date with the journal; returns the journal's identity (its inode), `undefined` when there is none. */
  #look(): bigint | undefined {
    for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
      let stat: fs.BigIntStats | undefined;
      try {
        stat = fs.lstatSync(this.file, { bigint: true, throwIfNoEntry: false });
      } catch (error) {
        throw this.#error(error);
      }
      if (stat === undefined) {
        this.#reset();
        return undefined;
      }
      if (!stat.isFile()) throw this.#error(undefined, stat.isSymbolicLink() ? "is a symbolic link" : "is not a file");
      if (stat.ino !== this.#ino && !this.#open(stat.ino)) continue; // replaced between the lstat and the open
      this.#catchUp();
      return this.#ino;
    }
    throw new StateStoreError(`The journal ${this.file} kept being replaced while it was opened. Read again once the run holding the stage is done.`, this.file);
  }

  /** Opens the journal afresh; false when the file opened is not the one `ino` names any more. */
  #open(ino: bigint): boolean {
    this.#reset();
    let fd: number;
    try {
      fd = fs.openSync(this.file, fs.constants.O_RDONLY | O_NOFOLLOW);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return false;
      throw this.#error(error);
    }
    if (fs.fstatSync(fd, { bigint: true }).ino !== ino) {
      fs.closeSync(fd);
      return false;
    }
    this.#fd = fd;
    this.#ino = ino;
    return true;
  }

  /** Reads the whole lines appended since the last look. */
  #catchUp(): void {
    if (this.#fd === undefined || this.#damaged) return;
    const size = Number(fs.fstatSync(this.#fd, { bigint: true }).size);
    if (size < this.#offset) {
      // Shrunk in place: not something a holder does, so start over rather than trust what was read.
      const ino = this.#ino!;
      if (!this.#open(ino)) return;
    }
    if (size <= this.#offset) return;
    const bytes = Buffer.allocUnsafe(size - this.#offset);
    let length = 0;
    while (length < bytes.length) {
      const n = fs.readSync(this.#fd, bytes, length, bytes.length - length, this.#offset + length);
      if (n === 0) break;
      length += n;
    }
    const end = bytes.lastIndexOf(0x0a, length - 1);
    if (end < 0) return; // no whole line yet
    const { entries, damaged } = decodeLines(bytes.toString("utf8", 0, end + 1));
    for (const entry of entries) {
      const id = entry.path[entry.path.length - 1]!;
      const dir = path.join(this.stageDir, ...entry.path.slice(0, -1));
      let files = this.#latest.get(dir);
      if (files === undefined) this.#latest.set(dir, (files = new Map()));
      files.delete(`${id}.json`); // keep the map in journal order
      files.set(`${id}.json`, entry.op === "set" ? JSON.stringify(entry.state) : null);
    }
    this.#offset += end + 1;
    this.#damaged = damaged;
  }

  #reset(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
    this.#ino = undefined;
    this.#offset = 0;
    this.#damaged = false;
    this.#latest.clear();
  }

  #error(error: unknown, what?: string): StateStoreError {
    const cause = error === undefined ? undefined : toError(error);
    return new StateStoreError(
      `Cannot read the journal ${this.file}: ${what ?? cause!.message}. ` +
        (what ? "alchemy never follows links in its state directory; move it aside (and check who put it there), then run again." : "Check that it belongs to the user running alchemy (mode 0600)."),
      this.file,
      cause === undefined ? undefined : { cause },
    );
  }
}
