/**
 * The entries of a stage journal: one JSON object per line, each a change to
 * one record file, with the record's path relative to the stage directory.
 *
 * ```
 * {"op":"set","path":["backend","db"],"state":{"status":"created",...}}
 * {"op":"delete","path":["api"]}
 * ```
 *
 * @module
 */
import { nameProblem } from "../../core/names.js";
import type { State } from "../state-store.js";
import { stateProblem } from "../state-record.js";

/**
 * One change to one record: `path` is the nested scope names below the stage
 * followed by the record id.
 *
 * @example
 * const entry: JournalEntry = { op: "delete", path: ["backend", "db"] };
 */
export type JournalEntry =
  | { op: "set"; path: string[]; state: State }
  | { op: "delete"; path: string[] };

/**
 * The journal line of `entry`, newline included. A line is complete only with
 * its newline, which is how a torn last write is recognised.
 *
 * @example
 * encodeEntry({ op: "delete", path: ["api"] }); // '{"op":"delete","path":["api"]}\n'
 */
export function encodeEntry(entry: JournalEntry): string {
  return JSON.stringify(entry) + "\n";
}

/**
 * The complete, valid entries at the start of a journal's `text`.
 *
 * Reading stops at the first line that has no newline, is not JSON or is not a
 * valid entry: an entry is acknowledged only after the whole write that holds
 * it was fsynced, and writes are appended in order, so whatever follows a
 * damaged line belongs to a write that was never acknowledged.
 *
 * @example
 * decodeEntries('{"op":"delete","path":["a"]}\n{"op":"se'); // [{ op: "delete", path: ["a"] }]
 */
export function decodeEntries(text: string): JournalEntry[] {
  return decodeLines(text).entries;
}

/**
 * The complete, valid entries at the start of `text`, and whether reading
 * stopped at a damaged line (`damaged`) rather than at the end or at an
 * incomplete last line. `consumed` is the length of `text` the entries
 * span, newlines included: where the next read continues.
 *
 * @example
 * decodeLines('{"op":"delete","path":["a"]}\n{"op":"se'); // { entries: [...], consumed: 30, damaged: false }
 */
export function decodeLines(text: string): { entries: JournalEntry[]; consumed: number; damaged: boolean } {
  const entries: JournalEntry[] = [];
  let start = 0;
  for (let end = text.indexOf("\n"); end >= 0; start = end + 1, end = text.indexOf("\n", start)) {
    const entry = parseEntry(text.slice(start, end));
    if (entry === undefined) return { entries, consumed: start, damaged: true };
    entries.push(entry);
  }
  return { entries, consumed: start, damaged: false };
}

function parseEntry(line: string): JournalEntry | undefined {
  let value: { op?: unknown; path?: unknown; state?: unknown };
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { op, path } = value;
  if (!Array.isArray(path) || path.length === 0 || path.some((name) => nameProblem(name) !== undefined)) {
    return undefined;
  }
  if (op === "delete") return { op, path };
  if (op === "set" && stateProblem(value.state, path[path.length - 1]) === undefined) {
    return { op, path, state: value.state as State };
  }
  return undefined;
}
