/**
 * One stage directory of the file-system store as this process uses it:
 * as a reader, or as the holder of the stage's lock, the only one that
 * writes.
 *
 * - A reader reads the record files plus the journal's acknowledged changes
 *   (`journal-reader.ts`) and never modifies anything of the stage: no
 *   replay, rename, truncate, link or unlink.
 * - The holder has the stage's lock, its fence (`stage-fence.ts`) and the
 *   journal (`journal.ts`); on taking the lock it fences off every earlier
 *   holder and replays what a crashed or paused one left in the journal.
 *   A run takes the lock explicitly (`FileSystemStateStore.lock`); a write
 *   made without it takes it implicitly, held until the last store of the
 *   stage in this process lets go, because the journal can only have one
 *   writer.
 *
 * @module
 */
import path from "node:path";
import { currentHolder, type LockRequest } from "../stage-lock.js";
import { acquireLock, readLock, type FileStageLock } from "./file-lock.js";
import { JournalReader } from "./journal-reader.js";
import { StageJournal, type StageJournalOptions } from "./journal.js";
import type { PendingChanges } from "./pending-changes.js";
import type { ReadMode } from "./scope-dir.js";
import { StageFence, removeOtherFences } from "./stage-fence.js";

/** The lease of a lock taken implicitly by a write. */
const IMPLICIT_LEASE_MS = 30_000;

/** This process as the holder of the stage. */
interface Holding {
  lock: FileStageLock;
  fence: StageFence;
  journal: StageJournal;
  /** Taken by a write, not by `lock()`: released when the stage is let go of. */
  implicit: boolean;
  heartbeat?: NodeJS.Timeout;
}

/** What a read saw: the files' result, and the acknowledged changes to lay over it. */
export interface StageRead<T> {
  files: T;
  pending: PendingChanges;
}

/**
 * A stage directory in this process. Use it through `stage-registry.ts`.
 *
 * @example
 * const stage = new StageFiles("/abs/.alchemy/app/dev", "app/dev", { checkpointBytes: 8 << 20 });
 * const { files, pending } = await stage.read((mode) => listRecordIds(dir));
 */
export class StageFiles {
  #holding: Holding | undefined;
  #taking: Promise<Holding> | undefined;
  #reader: JournalReader | undefined;

  constructor(
    readonly stageDir: string,
    /** `app/stage`, for messages. */
    readonly stagePath: string,
    readonly options: StageJournalOptions,
    /** Settles once an earlier use of the same stage in this process has finished closing. */
    readonly after: Promise<unknown> = Promise.resolve(),
  ) {}

  /** True while this process holds the stage's lock. */
  get held(): boolean {
    return this.#holding !== undefined;
  }

  /**
   * The journal, when this process holds the stage and has replayed it:
   * what {@link journal} resolves to, without a turn of the event loop
   * (10,000 concurrent writes each keep less alive meanwhile).
   */
  get readyJournal(): StageJournal | undefined {
    const journal = this.#holding?.journal;
    return journal?.recovered ? journal : undefined;
  }

  /**
   * Runs `readFiles` on the stage's record files and returns its result with
   * the acknowledged changes to lay over it: the holder's own (its files are
   * read without the before-and-after check, nobody else writes them), or,
   * for a reader, the journal's as of a look taken after the files were read.
   */
  async read<T>(readFiles: (mode: ReadMode) => T): Promise<StageRead<T>> {
    await this.after;
    const taking = this.#taking;
    if (taking) await taking.catch(() => undefined);
    const holding = this.#holding;
    if (holding) {
      await holding.journal.ready();
      return { files: readFiles("unchecked"), pending: holding.journal };
    }
    const reader = (this.#reader ??= new JournalReader(this.stageDir));
    return { files: reader.read(() => readFiles("checked")), pending: reader };
  }

  /** The acknowledged changes as last seen (for a reader, by its last read), without reading anything. */
  get pending(): PendingChanges | undefined {
    return this.#holding?.journal ?? this.#reader;
  }

  /**
   * The journal that takes this process's writes. Without the stage's lock,
   * takes it first (implicitly, until the stage is let go of).
   *
   * @throws StageLockedError when another process holds the lock.
   */
  async journal(): Promise<StageJournal> {
    const holding = this.#holding ?? (await this.#takeForWrites());
    await holding.journal.ready();
    return holding.journal;
  }

  /**
   * Takes the stage's lock for a run: fences off earlier holders and
   * replays what they left in the journal before resolving. Releasing it
   * checkpoints the journal first. A write's implicit lock gives way to it;
   * a run's lock held by this process is waited for (or refused) like any
   * other holder's.
   *
   * @throws StageLockedError when another holder keeps the lock past `request.timeoutMs`.
   */
  async lock(request: LockRequest): Promise<FileStageLock> {
    await this.after;
    const implicit = this.#holding ?? (await this.#taking?.catch(() => undefined));
    if (implicit?.implicit && this.#holding === implicit) await this.#letGo(implicit);
    const lock = await acquireLock(this.stageDir, this.stagePath, request);
    // Won: whoever held it in this process has let go of the stage, journal closed, before releasing the file.
    const holding = await this.#hold(lock, false);
    this.#holding = holding;
    return {
      info: lock.info,
      tookOverFrom: lock.tookOverFrom,
      lease: lock.lease,
      check: lock.check,
      heartbeat: () => lock.heartbeat(),
      release: async () => {
        if (this.#holding === holding) await this.#letGo(holding);
        else await lock.release();
      },
    };
  }

  /** Lets go of the stage: an implicit lock is released, after the journal is checkpointed; a reader closes. */
  async close(): Promise<void> {
    this.#reader?.close();
    this.#reader = undefined;
    const holding = this.#holding ?? (await this.#taking?.catch(() => undefined));
    if (holding?.implicit) await this.#letGo(holding);
  }

  /** Brings the record files up to date with the journal, if this process holds the stage. */
  async materialize(): Promise<void> {
    await this.#holding?.journal.materialize();
  }

  /** Takes the lock for this process's writes (one attempt shared by concurrent writes). */
  #takeForWrites(): Promise<Holding> {
    this.#taking ??= (async () => {
      try {
        await this.after;
        const lock = await acquireLock(this.stageDir, this.stagePath, implicitRequest());
        const holding = await this.#hold(lock, true);
        this.#holding = holding;
        return holding;
      } finally {
        this.#taking = undefined;
      }
    })();
    return this.#taking;
  }

  /** With the lock taken: fence, fence off the others, and replay the journal they left. */
  async #hold(lock: FileStageLock, implicit: boolean): Promise<Holding> {
    const fence = new StageFence(this.stageDir, this.stagePath, lock.info.id, lock.lease, () => readLock(this.stageDir));
    try {
      fence.create();
      removeOtherFences(this.stageDir, lock.info.id);
      this.#reader?.close();
      this.#reader = undefined;
      const journal = new StageJournal(this.stageDir, this.options, {
        writes: fence.writes,
        // The lock file names who holds the stage now; the fence also knows a lease run out unrenewed.
        refusal: () => lock.check() ?? fence.refusal(),
      });
      await journal.ready();
      const holding: Holding = { lock, fence, journal, implicit };
      if (implicit) {
        holding.heartbeat = setInterval(() => lock.heartbeat().catch(() => undefined), Math.max(50, Math.floor(lock.lease.leaseMs / 3)));
        holding.heartbeat.unref();
      }
      return holding;
    } catch (error) {
      fence.remove();
      await lock.release().catch(() => undefined);
      throw error;
    }
  }

  /** Checkpoints and closes the journal, removes the fence, releases the lock. */
  async #letGo(holding: Holding): Promise<void> {
    if (this.#holding === holding) this.#holding = undefined;
    clearInterval(holding.heartbeat);
    try {
      await holding.journal.close();
    } finally {
      // A fenced-off holder's fence is gone already, and its lock is someone else's: release leaves that alone.
      if (!holding.lock.check()) holding.fence.remove();
      await holding.lock.release();
    }
  }
}

function implicitRequest(): LockRequest {
  return { holder: currentHolder(`writing state without a run's lock (pid ${process.pid})`), leaseMs: IMPLICIT_LEASE_MS, timeoutMs: 0 };
}

/** `app/stage` of a stage directory below the state root. */
export function stagePathOf(stageDir: string): string {
  return `${path.basename(path.dirname(stageDir))}/${path.basename(stageDir)}`;
}
