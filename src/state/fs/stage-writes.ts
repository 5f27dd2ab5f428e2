/**
 * The mutating file operations of a stage directory, as one seam: the
 * record writer, the journal and the metadata file make every change to a
 * stage through a {@link StageWrites}, so that the lock holder's
 * implementation (`stage-fence.ts`) can refuse each one once the lock is
 * lost.
 *
 * @module
 */
import fs from "node:fs";

/**
 * Mutating file operations on absolute paths that name the real location;
 * an implementation may route them or refuse them.
 */
export interface StageWrites {
  /** `fs.openSync` for creating or appending. */
  open(file: string, flags: number, mode: number): number;
  rename(from: string, to: string): void;
  unlink(file: string): void;
  link(existing: string, created: string): void;
  mkdir(dir: string, mode: number): void;
  rmdir(dir: string): void;
  /** Throws when writing is no longer allowed. */
  check(): void;
}

/**
 * Plain file operations, for tests and for files no stage lock guards.
 *
 * @example
 * replaceFileDurably(file, text, UNFENCED);
 */
export const UNFENCED: StageWrites = {
  open: (file, flags, mode) => fs.openSync(file, flags, mode),
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (file) => fs.unlinkSync(file),
  link: (existing, created) => fs.linkSync(existing, created),
  mkdir: (dir, mode) => fs.mkdirSync(dir, { mode }),
  rmdir: (dir) => fs.rmdirSync(dir),
  check: () => undefined,
};

/** `O_NOFOLLOW` where the platform has it: opening a symbolic link then fails with ELOOP. */
export const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
