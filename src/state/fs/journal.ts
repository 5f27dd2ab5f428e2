/**
 * The write-ahead journal of one stage directory, with group commit.
 *
 * Why: fsyncing every record file (and its directory) costs milliseconds per
 * write. Instead, every change waiting at a moment is appended to one journal
 * file in ONE write and made durable with ONE fdatasync; only then are the
 * record files replaced (temp file + rename, not fsynced) and the writers'
 * promises resolved. Record files are made durable in bulk at a checkpoint,
 * after which the journal is truncated. After a crash, the first process that
 * touches the stage replays the journal. Measured here: 10,000 concurrent sets
 * commit in a handful of fdatasyncs (about 0.2–0.3 ms each).
 *
 * One process at a time writes a stage (the stage lock sees to that); within a
 * process every store of the stage shares one journal (see `journal-registry.ts`).
 *
 * @module
 */
import fs from "node:fs";
import type { FileHandle } from "node:fs/promises";
import fsp from "node:fs/promises";
import path from "node:path";
import { StateStoreError, toError } from "../../core/errors.js";
import { DirtyPaths, FILE_MODE, ensureDir, errorCode, fsyncPath, removeRecordFile, removeStaleTempFiles, replaceFile, syncPaths } from "./durable-files.js";
import { decodeEntries, encodeEntry, type JournalEntry } from "./journal-entry.js";
import { serializeState } from "./state-record.js";

/** Name of the journal file in a stage directory; `~` keeps it apart from records and scopes. */
export const JOURNAL_NAME = "~journal";

/**
 * Record files trail the journal by this long at most (plus the time to write
 * them), so that a record written twice in a row (creating, then created;
 * deleting, then deleted) costs one file operation instead of two.
 */
const MATERIALIZE_DELAY_MS = 25;
/** Materializing is synchronous; in the background it yields to the event loop this often. */
const YIELD_AFTER_MS = 20;
/** Bound on acknowledged changes held in memory before their files are written. */
const MATERIALIZE_AT_ONCE = 50_000;

/** Options of a {@link StageJournal}. */
export interface StageJournalOptions {
  /** Journal size that triggers a checkpoint. */
  checkpointBytes: number;
  /** Settles when the previous journal of the same stage has closed. */
  after?: Promise<unknown>;
}

interface Pending {
  entry: JournalEntry;
  line: string;
  text: string | undefined;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The journal of the stage at `stageDir`. Use it through `acquireJournal`.
 *
 * @example
 * const journal = new StageJournal("/abs/.alchemy/app/dev", { checkpointBytes: 8 << 20 });
 * await journal.write({ op: "delete", path: ["api"] });
 * await journal.close();
 */
export class StageJournal {
  readonly file: string;
  #handle: Promise<FileHandle> | undefined;
  #size = 0;
  #queue: Pending[] = [];
  #draining = false;
  #idle: Array<() => void> = [];
  #dirty = new DirtyPaths();
  /** Acknowledged changes not yet written to their record files, by file. */
  #unapplied = new Map<string, Pending>();
  /** Directories the unapplied changes will create (or already have). */
  #pendingDirs = new Set<string>();
  #materializeTimer: NodeJS.Timeout | undefined;
  #recovered: Promise<void> | undefined;
  #failure: StateStoreError | undefined;

  constructor(
    readonly stageDir: string,
    readonly options: StageJournalOptions,
  ) {
    this.file = path.join(stageDir, JOURNAL_NAME);
  }

  /** Settles once a journal left by an earlier process has been replayed (first call starts it). */
  ready(): Promise<void> {
    return (this.#recovered ??= this.#recover());
  }

  /** Makes `entry` durable in the journal, then applies it to the record files. */
  async write(entry: JournalEntry): Promise<void> {
    // Snapshot now: the caller may change its object before the commit runs.
    const text = entry.op === "set" ? serializeState(entry.state, this.#recordFile(entry.path)) : undefined;
    const line = encodeEntry(entry);
    await this.ready();
    if (this.#failure) throw this.#failure;
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ entry, line, text, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        // Wait for the current turn of the event loop so that its writes share one commit.
        setImmediate(() => void this.#drain());
      }
    });
  }

  /** Waits for pending writes, checkpoints and closes the journal file. */
  async close(): Promise<void> {
    await this.#recovered?.catch(() => undefined);
    while (this.#draining) await new Promise<void>((resolve) => this.#idle.push(resolve));
    clearTimeout(this.#materializeTimer);
    this.#materializeTimer = undefined;
    const handle = await this.#handle?.catch(() => undefined);
    if (handle === undefined) return;
    try {
      if (!this.#failure) await this.#checkpoint();
    } finally {
      this.#handle = undefined;
      await handle.close();
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) await this.#commit(this.#queue.splice(0));
    } finally {
      this.#draining = false;
      this.#idle.splice(0).forEach((wake) => wake());
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    if (this.#failure) return batch.forEach((p) => p.reject(this.#failure!));
    try {
      const handle = await this.#open();
      const bytes = Buffer.from(batch.map((p) => p.line).join(""));
      for (let offset = 0; offset < bytes.length; ) offset += (await handle.write(bytes, offset)).bytesWritten;
      await handle.datasync();
      this.#size += bytes.length;
    } catch (error) {
      const failure = this.#fail(error, "appending to");
      return batch.forEach((p) => p.reject(failure));
    }
    // Durable now. The record files follow shortly, a few at a time: a record
    // written twice meanwhile (creating, then created) is written to disk once.
    for (const p of batch) {
      const file = this.#recordFile(p.entry.path);
      this.#unapplied.delete(file); // keep the map in write order
      this.#unapplied.set(file, p);
      for (let dir = path.dirname(file); dir.length > this.stageDir.length; dir = path.dirname(dir)) this.#pendingDirs.add(dir);
      p.resolve();
    }
    this.#scheduleMaterialize();
    if (!this.#failure && this.#size >= this.options.checkpointBytes) {
      await this.#checkpoint().catch((error) => this.#fail(error, "checkpointing"));
    }
  }

  /** Makes every record file written so far durable, then empties the journal. */
  async #checkpoint(): Promise<void> {
    if (this.#size === 0 || this.#handle === undefined) return;
    const handle = await this.#handle;
    this.materialize();
    if (this.#failure) throw this.#failure;
    await syncPaths(this.stageDir, this.#dirty);
    await handle.truncate(0);
    await handle.datasync();
    this.#size = 0;
  }

  async #recover(): Promise<void> {
    await this.options.after?.catch(() => undefined);
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return;
      throw this.#error(error, "Could not read the journal");
    }
    if (text.length === 0) return;
    try {
      const dirs = new Set<string>();
      for (const entry of decodeEntries(text)) {
        this.#apply(entry, entry.op === "set" ? serializeState(entry.state) : undefined);
        dirs.add(path.dirname(this.#recordFile(entry.path)));
      }
      dirs.forEach(removeStaleTempFiles);
      await syncPaths(this.stageDir, this.#dirty);
      // Also drops a torn tail, which would otherwise hide the entries appended after it.
      const handle = await this.#open();
      await handle.truncate(0);
      await handle.datasync();
    } catch (error) {
      throw this.#error(error, "Could not replay the journal");
    }
  }

  /**
   * Writes every acknowledged change still waiting to its record file, now.
   * Readers call it first, so the files they read are current.
   */
  materialize(): void {
    this.#pendingDirs.clear();
    for (const [file, pending] of this.#unapplied) {
      if (this.#failure) return;
      this.#unapplied.delete(file);
      try {
        this.#apply(pending.entry, pending.text);
      } catch (error) {
        this.#fail(error, `applying the change to ${file} from`);
      }
    }
  }

  /** True when an acknowledged change not yet on disk will put a directory at `dir`. */
  willCreateDirectory(dir: string): boolean {
    return this.#pendingDirs.has(dir);
  }

  #scheduleMaterialize(): void {
    if (this.#unapplied.size >= MATERIALIZE_AT_ONCE) return this.materialize();
    this.#materializeTimer ??= setTimeout(() => {
      this.#materializeTimer = undefined;
      const until = performance.now() + YIELD_AFTER_MS;
      for (const [file, pending] of this.#unapplied) {
        if (this.#failure || performance.now() > until) break;
        this.#unapplied.delete(file);
        try {
          this.#apply(pending.entry, pending.text);
        } catch (error) {
          this.#fail(error, `applying the change to ${file} from`);
        }
      }
      // The rest goes in later turns, so timers (lock heartbeats) keep running.
      if (this.#unapplied.size > 0 && !this.#failure) this.#scheduleMaterialize();
    }, MATERIALIZE_DELAY_MS);
  }

  #apply(entry: JournalEntry, text: string | undefined): void {
    const file = this.#recordFile(entry.path);
    if (entry.op === "set") replaceFile(file, text!, this.#dirty);
    else removeRecordFile(file, this.stageDir, this.#dirty);
  }

  #recordFile(entryPath: string[]): string {
    const id = entryPath[entryPath.length - 1];
    return path.join(this.stageDir, ...entryPath.slice(0, -1), `${id}.json`);
  }

  #open(): Promise<FileHandle> {
    return (this.#handle ??= (async () => {
      ensureDir(this.stageDir);
      const handle = await fsp.open(this.file, "a", FILE_MODE);
      await handle.chmod(FILE_MODE);
      fsyncPath(this.stageDir); // the journal's own directory entry
      return handle;
    })());
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
    return new StateStoreError(
      `${what} ${this.file}: ${cause.message}.${detail} ` +
        `Fix the cause (disk space, permissions, a read-only file system) and run again.`,
      this.file,
      { cause },
    );
  }
}
