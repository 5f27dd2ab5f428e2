/**
 * What a run reports as it goes: one event per resource action, and a summary.
 *
 * @module
 */
import type { PropChange } from "./props.js";

/** What the engine does (or, in a plan, would do) to a resource. */
export type ResourceAction = "create" | "update" | "replace" | "delete" | "noop" | "read";

/** One step of one resource. */
export interface RunEvent {
  fqn: string;
  kind: string;
  action: ResourceAction;
  /** `start` before a handler runs, `done`/`failed` after; `planned` in a plan; `noop` when skipped. */
  status: "start" | "done" | "failed" | "planned";
  /** Changed prop paths (plan and update). */
  changes?: PropChange[];
  /** True when a value is known only after apply (plan). */
  unknown?: boolean;
  /**
   * In a plan, when the action depends on values known only after deploy (the
   * outputs of resources it updates or replaces): what deploy may do instead,
   * e.g. `["noop"]` for a resource that is updated only if those values change.
   * Such a resource is counted as `undecided`, not as `action`.
   */
  alternatives?: ResourceAction[];
  /** The recorded output (read phase). */
  output?: unknown;
  /** Why something unusual happens, e.g. an interrupted create being resumed. */
  note?: string;
  error?: Error;
  /** The resource is protected (`protect: true`); present only when true. */
  protect?: boolean;
  /**
   * The resource is retained (`retain: true`); present only when true. On a
   * delete: its record was (or, in a plan, will be) forgotten and its delete
   * handler not called.
   */
  retain?: boolean;
  /** protect/retain changes recorded without calling the handler, e.g. `["protect: false -> true"]`. */
  recorded?: string[];
  /**
   * In a plan: deploy will stop before doing this, because the resource is
   * protected, or because the deploy would delete more than `maxDeletes`.
   */
  refused?: "protected" | "maxDeletes";
}

/** Counts of what a run did. */
export interface RunSummary {
  created: number;
  updated: number;
  replaced: number;
  deleted: number;
  /** Records forgotten without deleting their resource (`retain: true`). */
  retained?: number;
  unchanged: number;
  failed: number;
  /** In a plan: resources whose action is known only after deploy (see {@link RunEvent.alternatives}). */
  undecided?: number;
  /** Milliseconds since the application started. */
  elapsedMs: number;
}

/** Counts events into a {@link RunSummary}. */
export class SummaryCounter {
  readonly summary: RunSummary = { created: 0, updated: 0, replaced: 0, deleted: 0, unchanged: 0, failed: 0, elapsedMs: 0 };

  count(event: RunEvent): void {
    const s = this.summary;
    if (event.status === "failed") s.failed++;
    else if (event.status === "planned" && event.alternatives?.length) s.undecided = (s.undecided ?? 0) + 1;
    else if (event.status === "done" || event.status === "planned") {
      if (event.action === "create") s.created++;
      else if (event.action === "update") s.updated++;
      else if (event.action === "replace") s.replaced++;
      else if (event.action === "delete" && event.retain) s.retained = (s.retained ?? 0) + 1;
      else if (event.action === "delete") s.deleted++;
      else if (event.action === "noop" || event.action === "read") s.unchanged++;
    }
  }
}

/** Resources created, updated, replaced or deleted (or, in a plan, to be, or maybe). */
export function changeCount(s: RunSummary): number {
  return s.created + s.updated + s.replaced + s.deleted + (s.retained ?? 0) + (s.undecided ?? 0);
}

/**
 * One line: `created 3, updated 1, deleted 2, unchanged 994 in 1.4s`, or for a
 * plan `Plan: 1 to create, 0 to update, 2 to delete, 994 unchanged` (with `N to replace`
 * and `N may change (known after deploy)` when there are any).
 */
export function formatSummary(s: RunSummary, planned = false): string {
  const time = `in ${(s.elapsedMs / 1000).toFixed(1)}s`;
  const changed = changeCount(s) + s.failed;
  if (changed === 0) return `No changes: ${s.unchanged} unchanged ${time}`;
  if (planned) {
    const replaced = s.replaced ? `, ${s.replaced} to replace` : "";
    const undecided = s.undecided ? `, ${s.undecided} may change (known after deploy)` : "";
    const retained = s.retained ? `, ${s.retained} to retain (not deleted)` : "";
    return `Plan: ${s.created} to create, ${s.updated} to update${replaced}, ${s.deleted} to delete${retained}${undecided}, ${s.unchanged} unchanged (${time.slice(3)})`;
  }
  const parts = [
    `created ${s.created}`,
    `updated ${s.updated}`,
    ...(s.replaced ? [`replaced ${s.replaced}`] : []),
    `deleted ${s.deleted}`,
    ...(s.retained ? [`retained ${s.retained} (not deleted)`] : []),
    `unchanged ${s.unchanged}`,
    ...(s.failed ? [`failed ${s.failed}`] : []),
  ];
  return `${parts.join(", ")} ${time}`;
}

/** Prints one line per finished action to stderr, unless quiet. */
export function consoleReporter(quiet: boolean): (event: RunEvent) => void {
  return (event) => {
    if (event.note && event.status === "start") console.error(`! ${event.fqn}: ${event.note}`);
    if (event.status === "failed") {
      console.error(`✗ ${event.action} ${event.fqn}: ${event.error?.message ?? "failed"}`);
      return;
    }
    if (quiet || event.status === "start" || (event.action === "noop" && !event.recorded?.length)) return;
    const action = event.action === "noop" ? "record" : event.action === "delete" && event.retain ? "retain" : event.action;
    const verb = event.status === "planned" ? `would ${action}` : (PAST[action] ?? action);
    const paths = event.changes?.length ? ` (${event.changes.map((c) => c.path || "(all)").join(", ")})` : "";
    const note = event.note || event.recorded?.length ? ` (${[event.note, ...(event.recorded ?? [])].filter(Boolean).join(", ")})` : "";
    const maybe = event.alternatives?.length ? ` (${alternativesText(event.alternatives)})` : event.refused ? ` (refused: ${event.refused === "protected" ? "protected" : "over maxDeletes"}; deploy stops)` : "";
    console.log(`${event.status === "planned" ? (maybe ? "?" : "~") : "✓"} ${verb} ${event.fqn}${paths}${note}${maybe}`);
  };
}

/**
 * What a planned event's alternatives mean, e.g. `or unchanged: known after deploy`.
 *
 * @example
 * alternativesText(["update", "noop"]); // "or update, or unchanged: known after deploy"
 */
export function alternativesText(alternatives: readonly ResourceAction[]): string {
  return `${alternatives.map((a) => `or ${a === "noop" ? "unchanged" : a}`).join(", ")}: known after deploy`;
}

const PAST: Record<string, string> = {
  create: "created",
  update: "updated",
  replace: "replaced",
  delete: "deleted",
  read: "read",
  noop: "unchanged",
  record: "recorded",
  retain: "retained",
};
