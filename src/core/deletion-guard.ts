/**
 * The mass-deletion guard: a deploy whose orphan clean-up would delete more of
 * the stage than `maxDeletes` allows stops before deleting anything. A program
 * that skips part of itself (a missing environment variable, a condition that
 * is false in CI) looks to the engine exactly like one whose author removed
 * those resources; the guard tells the two apart by size. `alchemy destroy`
 * is not guarded: deleting everything is what it is for.
 *
 * @module
 */
import type { DeletionItem } from "./deletion-item.js";
import { AlchemyError, MassDeletionError } from "./errors.js";
import type { Scope } from "./scope.js";
import { walkTree } from "./tree.js";

/** `maxDeletes`: a count of resources, or a percentage of the stage's such as `"50%"`. */
export type MaxDeletes = number | `${number}%`;

/** The default: more than half of the stage, and at least {@link MIN_GUARDED} resources. */
export const DEFAULT_MAX_DELETES: MaxDeletes = "50%";

/** A percentage limit never stops a deploy that deletes fewer than this many resources. */
export const MIN_GUARDED = 5;

/** A parsed `maxDeletes`. */
export type DeleteLimit = { count: number; spelled: string } | { percent: number; spelled: string };

/**
 * Parses `maxDeletes`; `where` names the option in the error.
 *
 * @example
 * parseMaxDeletes("25%", 'application "shop"'); // { percent: 25, spelled: "25%" }
 */
export function parseMaxDeletes(value: unknown, where: string): DeleteLimit {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return { count: value, spelled: String(value) };
  const match = typeof value === "string" ? /^(\d+(?:\.\d+)?)%$/.exec(value.trim()) : null;
  if (match && Number(match[1]) <= 100) return { percent: Number(match[1]), spelled: `${Number(match[1])}%` };
  throw new AlchemyError(
    `maxDeletes of ${where} must be a whole number of resources (such as 10) or a percentage of the stage (such as "50%"), got ${JSON.stringify(value) ?? typeof value}.`,
  );
}

/**
 * The error a deploy stops with when deleting `items` would exceed the limit
 * of the stage's run, else undefined. Replaced instances and retained records
 * are not counted: they lose nothing the program still declares.
 */
export async function massDeletion(stage: Scope, items: readonly DeletionItem[]): Promise<MassDeletionError | undefined> {
  const { allowDeletes, maxDeletes } = stage.context.options;
  if (allowDeletes) return undefined;
  const deleted = items.filter((i) => i.replacedIndex === undefined && !i.state.retain).map((i) => i.state.fqn);
  if ("count" in maxDeletes ? deleted.length <= maxDeletes.count : deleted.length < MIN_GUARDED) return undefined;
  let total = 0;
  await walkTree(stage, (_scope, records) => {
    total += records.size;
  });
  if ("percent" in maxDeletes && deleted.length * 100 <= maxDeletes.percent * total) return undefined;
  return new MassDeletionError(stage.path, deleted.sort(), total, maxDeletes.spelled);
}
