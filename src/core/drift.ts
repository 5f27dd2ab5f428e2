/**
 * Drift: a recorded resource changed or deleted outside alchemy. A refresh
 * (`plan --refresh`, `deploy --refresh`, `alchemy refresh`) calls the kind's
 * `read` for a declared resource's record and compares what it found with
 * the record, before the run decides anything.
 *
 * What a read may say (see `Context.gone` and `Context.observed`):
 * - it returns the output: the props are as recorded, the output as returned;
 * - `this.observed(output, props)`: the props and the output as found;
 * - `this.gone()`: the resource no longer exists;
 * - it throws: the refresh of that resource fails, naming its fqn (the run
 *   then fails as a failed create would: nothing is deleted).
 *
 * @module
 */
import type { State } from "../state/state-store.js";
import { ResourceError, toError } from "./errors.js";
import { invokeHandler, type RawHandler } from "./handler-context.js";
import { diffJson, type PropChange } from "./props.js";
import type { Scope } from "./scope.js";

/**
 * What a refresh found of one record:
 * - `in-sync`: as recorded;
 * - `drifted`: its props or output differ from the record;
 * - `gone`: deleted outside alchemy;
 * - `unread`: not read, and left as recorded (its kind has no `read`, or the
 *   record was left unfinished by an interrupted run: `note` says which).
 */
export type DriftStatus = "in-sync" | "drifted" | "gone" | "unread";

/** One record as a refresh found it, reported to `onDrift` (every status, `in-sync` included). */
export interface Drift {
  fqn: string;
  kind: string;
  status: DriftStatus;
  /** Drifted props: `before` as recorded, `after` as found (secrets stay `Secret`s, printed `[secret]`). */
  changes?: PropChange[];
  /** Drifted output fields, `before` as recorded, `after` as found. */
  outputChanges?: PropChange[];
  /** Why it was not read, or what the run does about it. */
  note?: string;
}

/** A record refreshed: the drift, and the record as the world has it (`undefined` when gone). */
export interface Refreshed {
  drift: Drift;
  /** The record with the props and output found; the record itself when in sync or unread; `undefined` when gone. */
  found: State | undefined;
}

const SETTLED = new Set(["created", "updated"]);

/**
 * Calls `read` for the record `previous` of resource `fqn` and compares what
 * it found with the record. Writes nothing.
 *
 * @throws ResourceError naming `fqn` when the read throws or returns something else than an output
 * @example
 * const { drift } = await refreshRecord(scope, { kind: "fs::File", fqn: "app/dev/index", id: "index" }, read, record);
 * drift.status; // "drifted"
 */
export async function refreshRecord(scope: Scope, ref: { kind: string; fqn: string; id: string }, read: RawHandler | undefined, previous: State): Promise<Refreshed> {
  const base = { fqn: ref.fqn, kind: ref.kind };
  if (!SETTLED.has(previous.status)) {
    const note = `not read: the record was left "${previous.status}" by an interrupted run, which the next deploy resumes`;
    return { drift: { ...base, status: "unread", note }, found: previous };
  }
  if (!read) {
    return { drift: { ...base, status: "unread", note: `not read: ${ref.kind} has no read, so it is taken as recorded` }, found: previous };
  }
  let result;
  try {
    result = await invokeHandler(read, {
      scope,
      id: ref.id,
      fqn: ref.fqn,
      kind: ref.kind,
      phase: "read",
      props: previous.props,
      previousProps: previous.props,
      previousOutput: previous.output,
    });
  } catch (thrown) {
    const cause = toError(thrown);
    throw new ResourceError(
      `Failed to read "${ref.fqn}" to refresh it: ${cause.message} Fix what the read needs (credentials, access) and run again, or run without --refresh to use the record as it is.`,
      ref.fqn,
      "read",
      { cause },
    );
  }
  if (result.type === "gone") return { drift: { ...base, status: "gone" }, found: undefined };
  if (result.type !== "output" && result.type !== "observed") {
    throw new ResourceError(`The read of "${ref.fqn}" returned this.${result.type === "replace" ? "replace" : "destroy"}(); return the output, this.observed(output, props) or this.gone().`, ref.fqn, "read");
  }
  const props = result.type === "observed" ? result.props : previous.props;
  const changes = diffJson(previous.props, props);
  const outputChanges = diffJson(previous.output, result.output);
  if (changes.length === 0 && outputChanges.length === 0) return { drift: { ...base, status: "in-sync" }, found: previous };
  return {
    drift: { ...base, status: "drifted", ...(changes.length ? { changes } : {}), ...(outputChanges.length ? { outputChanges } : {}) },
    found: { ...previous, props, output: result.output },
  };
}

/**
 * Whether drift should fail `plan --detailed-exitcode` with 2: a resource
 * changed or deleted outside alchemy (not one that could not be read).
 */
export function isDrift(drift: Drift): boolean {
  return drift.status === "drifted" || drift.status === "gone";
}

/**
 * The line a refresh prints for one record (nothing for one in sync): the
 * changed prop paths (else output fields) with their values as recorded and
 * as found.
 *
 * @example
 * driftLine({ fqn: "quickstart/dev/site/index", kind: "fs::File", status: "drifted",
 *   changes: [{ path: "content", before: "<h1>Hi</h1>", after: "<h1>edited by hand</h1>" }] });
 * // '! drifted quickstart/dev/site/index  content: "<h1>Hi</h1>" -> "<h1>edited by hand</h1>"'
 */
export function driftLine(drift: Drift, value: (v: unknown) => string = shortJson): string {
  const note = drift.note ? ` (${drift.note})` : "";
  if (drift.status === "gone") return `! gone ${drift.fqn}${note}`;
  if (drift.status === "unread") return `? not read ${drift.fqn}${note}`;
  if (drift.status === "in-sync") return "";
  const changes = drift.changes ?? (drift.outputChanges ?? []).map((c) => ({ ...c, path: c.path ? `output.${c.path}` : "output" }));
  const shown = changes.map((c) => `${c.path || "(all props)"}: ${value(c.before)} -> ${value(c.after)}`).join(", ");
  return `! drifted ${drift.fqn}  ${shown}${note}`;
}

function shortJson(v: unknown, max = 60): string {
  if (v === undefined) return "(none)";
  const text = JSON.stringify(v) ?? String(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
