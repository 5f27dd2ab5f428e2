/**
 * Recycling the files of replaced records.
 *
 * Why: replacing a record the textbook way (new temp file, rename over the
 * old one) allocates an inode and a data block and frees the old ones. On
 * ext4 the inode allocator walks past every inode freed in the last 5–10 s
 * (`recently_deleted`, one buffer lookup each), so rewriting thousands of
 * records gets slower the more were just rewritten. Measured on this
 * project's CI machines (ext4, virtio disk), 15,000 record replacements:
 * 4.1–4.8 s with a new temp file each, 0.4 s recycling.
 *
 * How: before a record is renamed over, its current file is kept under a
 * spare name (a hard link, so the record's name never disappears). A later
 * replacement in the same directory writes its complete text into the oldest
 * spare (same inode, same data block: nothing allocated, nothing freed) and
 * renames it over the record. A reader of a record's name still sees either
 * the old file or the new one, never a partial write.
 *
 * A reader in another process may still hold a file that became a spare. A
 * spare is therefore reused only after {@link SPARE_GRACE_MS}, and readers
 * compare the file's ctime before and after reading (`scope-dir.ts`), so a
 * file rewritten while read is read again. The grace period keeps that
 * rewrite in a later clock tick than the spare's last change even where
 * ctime only moves once a tick (10 ms at 100 Hz).
 *
 * Spares carry the temp mark: readers ignore them, and crash recovery
 * removes them with other temp files. Each stage's record writer owns one
 * {@link SpareFiles} and drops its spares at every journal checkpoint and
 * when it closes.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { FILE_MODE, TEMP_MARK, errorCode, type DirtyPaths } from "./durable-files.js";
import { O_NOFOLLOW, UNFENCED, type StageWrites } from "./stage-writes.js";

/** A spare is rewritten no sooner than this after its record was replaced. */
export const SPARE_GRACE_MS = 15;
/** Spares kept per directory; beyond this a replaced file is freed as usual. */
const MAX_SPARES_PER_DIR = 4096;
/** Hard links are not used on Windows, where an open file cannot be renamed over. */
const RECYCLING = process.platform !== "win32";

interface Spare {
  file: string;
  since: number;
}

/**
 * The spare files of one record writer, oldest first per directory.
 *
 * @example
 * const spares = new SpareFiles();
 * replaceRecordFile("/abs/.alchemy/app/dev/api.json", text, dirty, spares);
 * spares.dropAll(dirty); // at a checkpoint
 */
export class SpareFiles {
  /**
   * @param writes how spares are made, rewritten and removed (the lock holder's fence)
   * @param graceMs how long a spare rests before it is rewritten (shorter only in tests of readers)
   * @param recycle false keeps no spare at all
   */
  constructor(
    readonly writes: StageWrites = UNFENCED,
    readonly graceMs = SPARE_GRACE_MS,
    /** Off: nothing is kept, every replacement writes a new file. */
    readonly recycle = RECYCLING,
  ) {}

  readonly #byDir = new Map<string, Spare[]>();
  readonly #prefix = `${TEMP_MARK}spare-${process.pid.toString(36)}-${randomBytes(4).toString("hex")}-`;
  #counter = 0;

  /** Number of spares held. */
  get size(): number {
    let size = 0;
    for (const spares of this.#byDir.values()) size += spares.length;
    return size;
  }

  /** The oldest spare of `dir` past its grace period, taken out of the pool. */
  take(dir: string, now = performance.now()): string | undefined {
    const spares = this.#byDir.get(dir);
    if (spares === undefined || spares.length === 0 || now - spares[0]!.since < this.graceMs) return undefined;
    return spares.shift()!.file;
  }

  /**
   * Keeps the current file of `record` (about to be renamed over) as a
   * spare, and returns the spare's name. Best effort: when it cannot be
   * linked (no such record yet, another owner, a file system without hard
   * links) or it is not a plain file of mode 0600, nothing is kept and the
   * rename frees it as usual. If the rename then fails, call
   * {@link release} so that the record and the spare never share a file
   * that a later rewrite would change.
   */
  keep(record: string, now = performance.now()): string | undefined {
    if (!this.recycle || !RECYCLING) return undefined;
    const dir = path.dirname(record);
    let spares = this.#byDir.get(dir);
    if (spares !== undefined && spares.length >= MAX_SPARES_PER_DIR) return undefined;
    // A new record has nothing to keep (an lstat costs far less than a failed link's exception), and a
    // file whose mode was changed by hand is not passed on to another record.
    const stat = fs.lstatSync(record, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile() || (stat.mode & 0o777) !== FILE_MODE || stat.nlink !== 1) return undefined;
    const file = path.join(dir, `${this.#prefix}${(this.#counter++).toString(36)}`);
    try {
      this.writes.link(record, file);
    } catch (error) {
      if (errorCode(error) === undefined) throw error; // a refused write (the lock is lost)
      return undefined;
    }
    if (spares === undefined) this.#byDir.set(dir, (spares = []));
    spares.push({ file, since: now });
    return file;
  }

  /** Lets go of the spare `file` from {@link keep} (its rename did not happen): removed, not reused. */
  release(file: string): void {
    const spares = this.#byDir.get(path.dirname(file));
    const index = spares?.findIndex((spare) => spare.file === file) ?? -1;
    if (index >= 0) spares!.splice(index, 1);
    removeQuietly(file, this.writes);
  }

  /**
   * Writes the complete `text` into the spare `file` (no new inode or block
   * when it fits), or returns false and removes the spare when that fails.
   */
  rewrite(file: string, text: string): boolean {
    let fd: number | undefined;
    try {
      fd = this.writes.open(file, fs.constants.O_RDWR | O_NOFOLLOW, FILE_MODE);
      const bytes = Buffer.from(text);
      for (let offset = 0; offset < bytes.length; ) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset, offset);
      fs.ftruncateSync(fd, bytes.length);
      return true;
    } catch (error) {
      if (errorCode(error) === undefined) throw error;
      removeQuietly(file, this.writes);
      return false;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** Removes every spare (their directories become dirty). */
  dropAll(dirty: DirtyPaths): void {
    for (const [dir, spares] of this.#byDir) {
      for (const { file } of spares) removeQuietly(file, this.writes);
      dirty.dirs.add(dir);
    }
    this.#byDir.clear();
  }
}

function removeQuietly(file: string, writes: StageWrites): void {
  try {
    writes.unlink(file);
  } catch (error) {
    // Already gone (a directory pruned with its temp files); a refused write (the lock is lost) still throws.
    if (errorCode(error) === undefined) throw error;
  }
}
