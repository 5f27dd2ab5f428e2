/**
 * The write-ahead journal of one stage directory, with group commit.
 *
 * Why: fsyncing every record file (and its directory) costs milliseconds per
 * write. Instead, every change waiting at a moment is appended to one journal
 * file in ONE write and made durable with ONE fdatasync, and the writers'
 * promises resolve. The record files follow within milliseconds (written
 * whole and renamed into place, not fsynced; see `record-writer.ts` and
 * `spare-files.ts`), and are made durable in bulk
 * at a checkpoint, after which the journal is replaced by an empty file
 * (never truncated in place: readers in other processes tell a checkpoint
 * by the new file, see `journal-reader.ts`). After a crash, the next
 * process that takes the stage's lock replays the journal. Measured here:
 * 10,000 concurrent sets commit in a handful of fdatasyncs (0.05–0.3 ms each).
 *
 * Only the process holding the stage's lock has a `StageJournal`, and
 * every file operation it makes goes through the lock's fence
 * (`stage-fence.ts`), so a holder that lost the lock cannot change a file
 * of the stage; the lock is also checked before each commit and again
 * before the commit is acknowledged. Within a process every store of the
 * stage shares one journal (see `stage-registry.ts`).
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import { StateStoreError, toError } from "../../core/errors.js";
import { CREATE_NEW, DirtyPaths, FILE_MODE, TEMP_MARK, errorCode, fsyncPath, removeStaleTempFiles, syncPaths } from "./durable-files.js";
import { decodeEntries, encodeEntry, type JournalEntry } from "./journal-entry.js";
import { childDirsOf, type PendingChanges } from "./pending-changes.js";
import { RecordWriter, type RecordChange } from "./record-writer.js";
import { FENCE_PREFIX, JOURNAL_NAME, LOCK_NAME } from "./stage-layout.js";
import type { StageWrites } from "./stage-writes.js";
import { O_NOFOLLOW } from "./stage-writes.js";
import { serializeState } from "../state-record.js";

export { JOURNAL_NAME };

/**
 * How often acknowledged changes are handed to the record writer. A record in
 * a passing status (creating, updating, deleting) is held back: it is usually
 * superseded moments later (created, updated, removed), so holding it saves a
 * file operation, an inode allocation and a rename that cost 0.05–0.5 ms on
 * the virtual disks measured here, against microseconds for the journal.
 */
const MATERIALIZE_EVERY_MS = 50;
/** A record file never trails the journal by more than this. */
const MATERIALIZE_MAX_LAG_MS = 2_000;
const PASSING = new Set(["creating", "updating", "deleting"]);
/** Bound on acknowledged changes held in memory before their files are written. */
const MATERIALIZE_AT_ONCE = 50_000;

/** Options of a {@link StageJournal}. */
export interface StageJournalOptions {
  /** Journal size that triggers a checkpoint. */
  checkpointBytes: number;
  /** Whether replaced record files are recycled (spare-files.ts). @default true */
  recycleReplacedFiles?: boolean;
}

/** What a journal needs of the stage lock its process holds. */
export interface JournalGuard {
  /** Every file operation, fenced (see `stage-fence.ts`). */
  writes: StageWrites;
  /** The error refusing a commit now (the lock is lost, by the holder's clock or the lock file), or `undefined`. */
  refusal(): Error | undefined;
}

/** A change waiting for its commit. */
interface Pending {
  entry: JournalEntry;
  line: string;
  text: string | undefined;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A committed change whose record file may not be written yet: only what
 * writing it takes, so the entry, its journal line and the writer's callbacks
 * are not kept for thousands of records until their files are written.
 */
interface Acknowledged {
  /** The record file's new text; `undefined` for a removal. */
  text: string | undefined;
  /** Written in a passing status (creating, updating, deleting): usually superseded moments later. */
  passing: boolean;
  /** When the change was acknowledged. */
  at: number;
}

/**
 * The journal of the stage at `stageDir`, owned by the process holding the
 * stage's lock. Use it through `stage-registry.ts`.
 *
 * @example
 * const journal = new StageJournal("/abs/.alchemy/app/dev", { checkpointBytes: 8 << 20 }, guard);
 * await journal.ready(); // replays what a crashed run left
 * await journal.write({ op: "delete", path: ["api"] });
 * await journal.close();
 */
export class StageJournal implements PendingChanges {
  readonly file: string;
  #fd: number | undefined;
  #size = 0;
  #queue: Pending[] = [];
  #draining = false;
  #idle: Array<() => void> = [];
  #dirty = new DirtyPaths();
  #writer: RecordWriter;
  /** Acknowledged changes not yet handed to the record writer, by file. */
  #unapplied = new Map<string, Acknowledged>();
  /** The latest acknowledged change of every file not yet confirmed on disk (what readers see), by directory then file name. */
  #latest = new Map<string, Map<string, Acknowledged>>();
  /** Directories the changes not yet on disk will create (or already have). */
  #pendingDirs = new Set<string>();
  #inFlight = 0;
  #materializeTimer: NodeJS.Timeout | undefined;
  #recovered: Promise<void> | undefined;
  #isRecovered = false;
  #failure: StateStoreError | undefined;
  /** Set once a fence check failed: no more writes, and no checkpoint (another run owns the stage now). */
  #fenced: Error | undefined;
  readonly #writes: StageWrites;

  constructor(
    readonly stageDir: string,
    readonly options: StageJournalOptions,
    readonly guard: JournalGuard,
  ) {
    this.file = path.join(stageDir, JOURNAL_NAME);
    this.#writes = guard.writes;
    this.#writer = new RecordWriter(stageDir, this.#dirty, guard.writes, options.recycleReplacedFiles ?? true);
  }

  /** True once a journal left by an earlier process has been replayed. */
  get recovered(): boolean {
    return this.#isRecovered;
  }

  /** Settles once a journal left by an earlier process has been replayed (first call starts it). */
  ready(): Promise<void> {
    return (this.#recovered ??= this.#recover().then(() => {
      this.#isRecovered = true;
    }));
  }

  /**
   * Makes `entry` durable in the journal; its record file follows shortly.
   * `text` is the record file's text when the caller already made it.
   */
  write(entry: JournalEntry, text = entry.op === "set" ? serializeState(entry.state, this.#recordFile(entry.path)) : undefined): Promise<void> {
    // The text is a snapshot taken now: the caller may change its object before the commit runs.
    const line = encodeEntry(entry);
    if (!this.#isRecovered) return this.ready().then(() => this.#enqueue(entry, line, text));
    return this.#enqueue(entry, line, text);
  }

  #enqueue(entry: JournalEntry, line: string, text: string | undefined): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#fenced) return Promise.reject(this.#fenced);
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ entry, line, text, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        // Wait for the current turn of the event loop so that its writes share one commit.
        setImmediate(() => void this.#drain());
      }
    });
  }

  /**
   * The error that refuses a write to the stage right now, or `undefined`:
   * the journal failed, or the stage lock held by this process is no longer
   * ours (checked now, as before each commit, and remembered like a commit's
   * check). For writes that do not go through the journal, such as the stage
   * metadata file (`stage-meta-file.ts`): call it in the same turn of the
   * event loop as the write.
   */
  refusal(): Error | undefined {
    if (this.#failure) return this.#failure;
    this.#fenced ??= this.guard.refusal();
    return this.#fenced;
  }

  /** Waits for pending writes, checkpoints and closes the journal file. */
  async close(): Promise<void> {
    await this.#recovered?.catch(() => undefined);
    while (this.#draining) await new Promise<void>((resolve) => this.#idle.push(resolve));
    try {
      if (this.#fd !== undefined && !this.#failure && !this.#fenced) await this.#checkpoint();
    } finally {
      await this.#writer.close().catch(() => undefined);
      if (this.#fd !== undefined) fs.closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (!this.#failure && !this.#fenced) this.#removeIfEmpty();
  }

  /**
   * A stage left with no record (destroyed) keeps no journal: an empty
   * journal is removed when nothing but the lock and its fence is left
   * beside it. The lock's release then removes the directory.
   */
  #removeIfEmpty(): void {
    try {
      const names = fs.readdirSync(this.stageDir).filter((name) => name !== LOCK_NAME && !name.startsWith(FENCE_PREFIX));
      if (names.length !== 1 || names[0] !== JOURNAL_NAME || fs.lstatSync(this.file).size !== 0) return;
      this.#writes.unlink(this.file);
    } catch {
      // Something else is there (or the stage was never written): leave it.
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        this.#commit(this.#queue.splice(0));
        // No commit may land between a checkpoint's flush and its truncation.
        if (!this.#failure && this.#size >= this.options.checkpointBytes) {
          await this.#checkpoint().catch((error) => this.#fail(error, "checkpointing"));
        }
      }
    } finally {
      this.#draining = false;
      this.#idle.splice(0).forEach((wake) => wake());
    }
  }

  /**
   * Appends a batch and fdatasyncs it, on this thread: a round trip through the
   * libuv pool costs more than the flush itself when writes come one at a time.
   */
  #commit(batch: Pending[]): void {
    if (this.#failure) return batch.forEach((p) => p.reject(this.#failure!));
    const refused = this.refusal();
    if (refused) return batch.forEach((p) => p.reject(refused));
    try {
      const fd = this.#open();
      const bytes = Buffer.from(batch.map((p) => p.line).join(""));
      for (let offset = 0; offset < bytes.length; ) offset += fs.writeSync(fd, bytes, offset);
      fs.fdatasyncSync(fd);
      this.#size += bytes.length;
    } catch (error) {
      if (this.refusal()) return batch.forEach((p) => p.reject(this.#fenced!));
      const failure = this.#fail(error, "appending to");
      return batch.forEach((p) => p.reject(failure));
    }
    // A holder paused during the commit may have lost the stage meanwhile: then nobody may act on it.
    this.#fenced ??= this.guard.refusal();
    if (this.#fenced) return batch.forEach((p) => p.reject(this.#fenced!));
    // Durable now. A record written twice before its file is (creating, then
    // created) costs one file operation.
    const now = performance.now();
    for (const p of batch) {
      const { entry } = p;
      const acknowledged: Acknowledged = { text: p.text, passing: entry.op === "set" && PASSING.has(entry.state.status), at: now };
      const file = this.#recordFile(entry.path);
      this.#unapplied.delete(file); // keep the map in write order
      this.#unapplied.set(file, acknowledged);
      this.#latestIn(path.dirname(file)).set(path.basename(file), acknowledged);
      for (let dir = path.dirname(file); dir.length > this.stageDir.length; dir = path.dirname(dir)) this.#pendingDirs.add(dir);
      p.resolve();
    }
    if (this.#unapplied.size >= MATERIALIZE_AT_ONCE) void this.#handOver();
    else this.#materializeTimer ??= setTimeout(() => this.#handOverSettled(), MATERIALIZE_EVERY_MS);
  }

  /**
   * Brings every record file up to date with what the journal acknowledged.
   * Readers call it first, so the files they read are current.
   */
  async materialize(): Promise<void> {
    await this.#handOver();
    await this.#writer.idle();
    if (this.#failure) throw this.#failure;
    if (this.#unapplied.size === 0 && this.#inFlight === 0) this.#pendingDirs.clear();
  }

  /** True when an acknowledged change not yet on disk will put a directory at `dir`. */
  willCreateDirectory(dir: string): boolean {
    return this.#pendingDirs.has(dir);
  }

  /**
   * The acknowledged content of `file` while its change is not yet on disk:
   * its text, `null` for a removal, `undefined` when the file on disk is current.
   */
  text(file: string): string | null | undefined {
    const pending = this.#latest.get(path.dirname(file))?.get(path.basename(file));
    return pending === undefined ? undefined : (pending.text ?? null);
  }

  /** Changes not yet on disk to files directly in `dir`, by file name. */
  in(dir: string): Map<string, string | null> {
    const found = new Map<string, string | null>();
    for (const [name, pending] of this.#latest.get(dir) ?? []) found.set(name, pending.text ?? null);
    return found;
  }

  /** Names of the child directories of `dir` that changes not yet on disk write records into. */
  childDirs(dir: string): { written: Set<string>; removals: boolean } {
    return childDirsOf(this.#latest, dir, (pending) => pending.text === undefined);
  }

  /** Number of files with a change not yet on disk. */
  get size(): number {
    let size = 0;
    for (const files of this.#latest.values()) size += files.size;
    return size;
  }

  #latestIn(dir: string): Map<string, Acknowledged> {
    let files = this.#latest.get(dir);
    if (files === undefined) this.#latest.set(dir, (files = new Map()));
    return files;
  }

  /** Hands over the changes not in a passing status, and those held back too long. */
  #handOverSettled(): void {
    this.#materializeTimer = undefined;
    const now = performance.now();
    void this.#handOver((change) => !change.passing || now - change.at > MATERIALIZE_MAX_LAG_MS);
    if (this.#unapplied.size > 0) this.#materializeTimer = setTimeout(() => this.#handOverSettled(), MATERIALIZE_EVERY_MS);
  }

  /** Gives the record writer the waiting changes (those `which` picks, or all). */
  #handOver(which?: (change: Acknowledged) => boolean): Promise<void> {
    if (which === undefined) {
      clearTimeout(this.#materializeTimer);
      this.#materializeTimer = undefined;
    }
    if (this.#unapplied.size === 0 || this.#failure) return Promise.resolve();
    const handed: Array<[string, Acknowledged]> = [];
    for (const entry of this.#unapplied) if (which === undefined || which(entry[1])) handed.push(entry);
    if (handed.length === 0) return Promise.resolve();
    for (const [file] of handed) this.#unapplied.delete(file);
    const changes: RecordChange[] = handed.map(([file, pending]) => ({ file, text: pending.text }));
    this.#inFlight++;
    return this.#writer.apply(changes).then(
      () => {
        this.#inFlight--;
        for (const [file, pending] of handed) {
          const dir = path.dirname(file);
          const files = this.#latest.get(dir);
          if (files?.get(path.basename(file)) !== pending) continue;
          files.delete(path.basename(file));
          if (files.size === 0) this.#latest.delete(dir);
        }
      },
      (error) => {
        this.#inFlight--;
        this.#fail(error, "applying changes to the record files of");
      },
    );
  }

  /** Makes every record file written so far durable, then empties the journal. */
  async #checkpoint(): Promise<void> {
    if (this.#size === 0 || this.#fd === undefined) return;
    await this.materialize();
    if (this.#failure) throw this.#failure;
    // Spares live in directories this journal covers; once it is empty, no replay would remove them.
    await this.#writer.dropSpares();
    await syncPaths(this.stageDir, this.#dirty);
    this.#replaceWithEmpty();
    this.#size = 0;
  }

  async #recover(): Promise<void> {
    let text: string;
    try {
      text = readJournal(this.file);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return;
      throw this.#error(error, "Could not read the journal");
    }
    if (text.length === 0) return;
    try {
      const changes: RecordChange[] = [];
      const dirs = new Set<string>([this.stageDir]);
      for (const entry of decodeEntries(text)) {
        const file = this.#recordFile(entry.path);
        changes.push({ file, text: entry.op === "set" ? serializeState(entry.state) : undefined });
        dirs.add(path.dirname(file));
      }
      await this.#writer.apply(changes);
      await this.#writer.dropSpares();
      dirs.forEach((dir) => removeStaleTempFiles(dir, this.#writes));
      await syncPaths(this.stageDir, this.#dirty);
      // Also drops a torn tail, which would otherwise hide the entries appended after it.
      this.#replaceWithEmpty();
    } catch (error) {
      if (this.guard.refusal()) throw this.guard.refusal();
      throw this.#error(error, "Could not replay the journal");
    }
  }

  /**
   * Puts an empty, durable journal in place of the current one (a new file
   * renamed over it), and appends to it from now on. Readers in other
   * processes tell the checkpoint by the new file.
   */
  #replaceWithEmpty(): void {
    const temp = `${this.file}${TEMP_MARK}empty`;
    try {
      this.#writes.unlink(temp);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
    }
    const fd = this.#writes.open(temp, CREATE_NEW | fs.constants.O_APPEND, FILE_MODE);
    try {
      fs.fchmodSync(fd, FILE_MODE);
      fs.fsyncSync(fd);
      this.#writes.rename(temp, this.file);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    fsyncPath(this.stageDir);
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = fd;
  }

  #recordFile(entryPath: string[]): string {
    const id = entryPath[entryPath.length - 1];
    return path.join(this.stageDir, ...entryPath.slice(0, -1), `${id}.json`);
  }

  #open(): number {
    if (this.#fd === undefined) {
      // The stage directory exists: the lock file and the fence are in it.
      const fd = this.#writes.open(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | O_NOFOLLOW, FILE_MODE);
      fs.fchmodSync(fd, FILE_MODE);
      fsyncPath(this.stageDir); // the journal's own directory entry
      this.#fd = fd;
    }
    return this.#fd;
  }

  /** Stops accepting writes: acknowledged ones stay in the journal for the next run to replay. */
  #fail(error: unknown, doing: string): StateStoreError {
    this.#failure ??= this.#error(
      error,
      `Stopped writing state after an error ${doing} the journal`,
      " Every acknowledged write is safe in the journal and is replayed when the stage is next opened.",
    );
    return this.#failure;
  }

  #error(error: unknown, what: string, detail = ""): StateStoreError {
    const cause = toError(error);
    if (errorCode(error) === "ELOOP") {
      return new StateStoreError(
        `${what} ${this.file}: it is a symbolic link. alchemy never follows links in its state directory; ` +
          "move it aside (and check who put it there), then run again.",
        this.file,
        { cause },
      );
    }
    return new StateStoreError(
      `${what} ${this.file}: ${cause.message}.${detail} ` +
        `Fix the cause (disk space, permissions, a read-only file system) and run again.`,
      this.file,
      { cause },
    );
  }
}

/**
 * The text of the journal `file`, refusing a symbolic link or anything but
 * a plain file in its place.
 *
 * @throws Error with code ENOENT when there is none.
 */
function readJournal(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW);
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error("it is not a plain file");
    return fs.readFileSync(fd, "utf8");
  } finally {
    fs.closeSync(fd);
  }
}
