/**
 * What a file-system store reads on top of the record files: the changes
 * the stage's journal acknowledged that may not be in the files yet. The
 * lock holder keeps its own (`journal.ts`); any other process reads them
 * from the journal (`journal-reader.ts`).
 *
 * @module
 */
import path from "node:path";

/**
 * Acknowledged changes to record files, by absolute file path.
 *
 * @example
 * const text = pending.text("/abs/.alchemy/app/dev/api.json"); // string | null (removed) | undefined (the file is current)
 */
export interface PendingChanges {
  /** The record's text (JSON), `null` when it was removed, `undefined` when its file is current. */
  text(file: string): string | null | undefined;
  /** The changes to files directly in `dir`, by file name. */
  in(dir: string): Map<string, string | null>;
  /** Names of the child directories of `dir` that changes write records into, and whether any change below `dir` removes one. */
  childDirs(dir: string): { written: Set<string>; removals: boolean };
  /** Number of files with a change. */
  readonly size: number;
}

/**
 * {@link PendingChanges.childDirs} over changes kept by directory, then file
 * name; `removed` tells a removal.
 *
 * @example
 * childDirsOf(latest, "/abs/.alchemy/app/dev", (change) => change === null);
 */
export function childDirsOf<T>(latest: ReadonlyMap<string, ReadonlyMap<string, T>>, dir: string, removed: (change: T) => boolean): { written: Set<string>; removals: boolean } {
  const written = new Set<string>();
  let removals = false;
  const prefix = dir + path.sep;
  for (const [other, files] of latest) {
    if (!other.startsWith(prefix) || files.size === 0) continue;
    const child = other.slice(prefix.length).split(path.sep, 1)[0]!;
    for (const change of files.values()) {
      if (removed(change)) removals = true;
      else written.add(child);
    }
  }
  return { written, removals };
}
