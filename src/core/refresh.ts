/**
 * What a refresh does with a declared resource's record, per phase (see
 * `drift.ts` for how a record is read and compared):
 *
 * - `plan --refresh` and `deploy --refresh` ({@link refreshBeforeDeciding}):
 *   the record is read first and the run decides from what was found. A
 *   drifted resource is planned and deployed as an update from its found
 *   props and output back to the program's props (also when only its output
 *   drifted); a gone one as a create. Nothing is written before deploy acts
 *   as it always does.
 * - `alchemy refresh` ({@link refreshResource}, the `refresh` phase): what was
 *   found is recorded and no resource is changed. A drifted record gets the
 *   found props and output (`seq` + 1), so that a plan without `--refresh`
 *   then shows the update that puts it back; a gone resource's record is
 *   removed (its resource scope's records are refreshed on their own); a
 *   record that could not be read is left as it is.
 *
 * A read that throws fails the resource as a failed create would: it is
 * reported with its fqn, and the run deletes nothing.
 *
 * @module
 */
import type { State } from "../state/state-store.js";
import { refreshRecord, type Drift, type Refreshed } from "./drift.js";
import { ResourceError, toError } from "./errors.js";
import { brandOutput, unknownOutput, type ResourceRef } from "./output.js";
import type { Provider } from "./lifecycle.js";
import type { Scope } from "./scope.js";

/** What the run does about drift, said after the drift (`! gone app/dev/x (it will be created again)`). */
const PLANNED: Partial<Record<Drift["status"], string>> = { gone: "it will be created again" };
const DEPLOYED: Partial<Record<Drift["status"], string>> = { gone: "creating it again" };
const RECORDED: Partial<Record<Drift["status"], string>> = { gone: "its record is removed", drifted: "recorded" };

/**
 * In `plan` and `up` with `refresh`: reads the record and reports its drift.
 * Resolves to the record to decide from: as found (drifted), `undefined`
 * (gone: created again), or the record itself; and the drift, when any.
 */
export async function refreshBeforeDeciding(scope: Scope, provider: Provider, ref: ResourceRef, previous: State): Promise<{ previous: State | undefined; drift?: Drift }> {
  const refreshed = await readOrFail(scope, provider, ref, previous);
  const { drift, found } = refreshed;
  const then = (scope.phase === "plan" ? PLANNED : DEPLOYED)[drift.status];
  scope.context.reportDrift(then && !drift.note ? { ...drift, note: then } : drift);
  if (drift.status === "gone") {
    // Kept as an unfinished create, so that `seq`, `data` and replaced instances carry over.
    return { previous: { ...previous, status: "creating", output: undefined }, drift };
  }
  return drift.status === "drifted" ? { previous: found, drift } : { previous };
}

/** The `refresh` phase: records what the read found of a declared resource; resolves to its output. */
export async function refreshResource(scope: Scope, provider: Provider, ref: ResourceRef, previous: State | undefined): Promise<unknown> {
  // Never deployed: nothing to refresh, and nothing to hand dependents but values known after deploy.
  if (!previous) return unknownOutput(ref);
  const interrupted = scope.context.interruption(ref.fqn);
  if (interrupted) {
    scope.context.fail(interrupted);
    throw interrupted;
  }
  const { drift, found } = await readOrFail(scope, provider, ref, previous);
  if (drift.status === "drifted" && found) await scope.write({ ...found, seq: previous.seq + 1 });
  if (drift.status === "gone") await scope.remove(ref.id);
  const note = RECORDED[drift.status];
  scope.context.reportDrift(note && !drift.note ? { ...drift, note } : drift);
  return previous.output === undefined ? unknownOutput(ref) : brandOutput(found?.output ?? previous.output, ref);
}

/** Reads the record; a read that fails fails the resource (reported with its fqn) and rejects. */
async function readOrFail(scope: Scope, provider: Provider, ref: ResourceRef, previous: State): Promise<Refreshed> {
  try {
    return await refreshRecord(scope, ref, provider.read, previous);
  } catch (thrown) {
    const cause = toError(thrown);
    const error = cause instanceof ResourceError && cause.fqn === ref.fqn ? cause : new ResourceError(`Failed to read "${ref.fqn}": ${cause.message}`, ref.fqn, "read", { cause });
    scope.context.fail(error);
    scope.context.emit({ fqn: ref.fqn, kind: ref.kind, action: "read", status: "failed", error });
    throw error;
  }
}
