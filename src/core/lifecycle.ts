/**
 * What happens when the program declares a resource, per phase.
 *
 * Lifecycle contract in the `up` phase (seed 002):
 * 1. No record -> write `creating`, call create, write `created`. If create
 *    fails or the process dies in between, the record stays `creating`; the
 *    next run reports it and calls create again (the handler may adopt).
 * 2. Record settled and props unchanged -> skip; the handler is not called.
 * 3. Props changed -> write `updating`, call update, write `updated`. A failed
 *    update leaves `updating` with the old props, so the next run updates again.
 *    When update returns `this.replace()`, a new instance is created and the
 *    old one is kept in `replaced` until finalize deletes it (`replace(true)`:
 *    the old one is deleted first).
 * 3a. Props changed where the kind declares a replacement (`replaceOnChanges`)
 *    -> update is not called: the new instance is created at once (the record
 *    goes straight to `creating`, the old instance in `replaced`), or with
 *    `deleteBeforeReplace` the record is marked `deleting`, the old instance
 *    deleted, then the new one created.
 * 4. No longer declared -> deleted at finalize (see finalize.ts).
 * 5. With `refresh` (plan and up), the record is read first (see refresh.ts):
 *    the run decides from what was found, so a resource changed outside
 *    alchemy is updated back (even when its props are as recorded: its
 *    output drifted) and one deleted outside alchemy is created again. The
 *    `refresh` phase only records what it found.
 *
 * The plan phase decides the same way without calling handlers: create,
 * update, replace (declared ones only: a handler's own `this.replace()` shows
 * as update), noop; and when the decision depends on an output known only
 * after deploy, the action with its `alternatives`.
 *
 * @module
 */
import type { State } from "../state/state-store.js";
import { deletionOptionChanges, mergeDeletionOptions, withDeletionOptions, type DeletionOptions } from "./deletion-options.js";
import { ProtectedResourceError, ResourceError, toError } from "./errors.js";
import type { ResourceAction } from "./events.js";
import { invokeHandler, type HandlerResult, type RawHandler } from "./handler-context.js";
import { brandOutput, trackUnknownReads, unknownOutput, type ResourceRef, type TrackedCall } from "./output.js";
import { diffJson, holdsUnknown, isUncertainChange, jsonEqual, pathsOverlap, serializeProps, type PropChange, type SerializedProps } from "./props.js";
import type { PlanContext, ResourceOptions } from "./resource.js";
import type { Scope } from "./scope.js";
import { toStorable } from "./storable.js";
import type { Drift } from "./drift.js";
import { refreshBeforeDeciding, refreshResource } from "./refresh.js";

/** A resource kind as the engine applies it. */
export interface Provider extends ResourceOptions<unknown, unknown> {
  kind: string;
  handler: RawHandler;
  /** Optional refresh used in the read phase. */
  read?: RawHandler;
}

const SETTLED = new Set(["created", "updated"]);

/** Applies one declared resource according to the run's phase; resolves to its output. */
export async function applyResource(scope: Scope, provider: Provider, id: string, props: unknown, own: DeletionOptions = {}): Promise<unknown> {
  const fqn = `${scope.path}/${id}`;
  if (Object.keys(own).length) scope.noteResourceOptions(id, own);
  const options = mergeDeletionOptions(scope.deletionOptions, own);
  const ref: ResourceRef = { fqn, kind: provider.kind, id };
  const records = await scope.records();
  let previous = records.get(id);
  if (previous && previous.kind !== provider.kind) {
    throw new ResourceError(
      `"${fqn}" is recorded as a ${previous.kind} but the program declares a ${provider.kind} with that id. Use another id, or delete the old one first (remove it from the program and deploy).`,
      fqn,
      "plan",
    );
  }
  let drift: Drift | undefined;
  if (previous && scope.context.options.refresh && (scope.phase === "plan" || scope.phase === "up")) {
    ({ previous, drift } = await refreshBeforeDeciding(scope, provider, ref, previous));
  }
  switch (scope.phase) {
    case "refresh":
      return refreshResource(scope, provider, ref, previous);
    case "read":
      return readResource(scope, provider, ref, previous, props);
    case "destroy":
      return previous?.output !== undefined ? brandOutput(previous.output, ref) : unknownOutput(ref);
    case "plan":
      return planResource(scope, provider, ref, previous, props, options, drift);
    case "up":
      return upResource(scope, provider, ref, previous, props, options, drift);
  }
}

async function readResource(scope: Scope, provider: Provider, ref: ResourceRef, previous: State | undefined, props: unknown) {
  if (!previous || previous.output === undefined) {
    throw new ResourceError(
      `No recorded output for "${ref.fqn}": it has not been deployed to stage "${scope.chain[1]}" yet. Deploy first, then read.`,
      ref.fqn,
      "read",
    );
  }
  let output: unknown = previous.output;
  if (provider.read) {
    const result = await invokeHandler(provider.read, call(scope, ref, "read", props, previous));
    if (result.type === "output" || result.type === "observed") output = result.output;
    if (result.type === "gone") {
      throw new ResourceError(
        `"${ref.fqn}" no longer exists: its read found it deleted outside alchemy, though its record remains. ` +
          `Run alchemy deploy --refresh to create it again, or alchemy refresh to remove its record.`,
        ref.fqn,
        "read",
      );
    }
  }
  scope.context.emit({ fqn: ref.fqn, kind: ref.kind, action: "read", status: "done", output });
  return brandOutput(output, ref);
}

function planResource(scope: Scope, provider: Provider, ref: ResourceRef, previous: State | undefined, props: unknown, options: DeletionOptions, drift?: Drift) {
  const context = scope.context;
  const next = serializeProps(props, ref.fqn);
  const unknown = next.unknown || holdsUnknown(next.value);
  const event = { fqn: ref.fqn, kind: ref.kind, status: "planned" as const, unknown: unknown || undefined, ...flagsOf(options) };
  if (!previous) {
    context.emit({ ...event, action: "create", changes: diffJson(undefined, next.value) });
    return plannedOutput(scope, provider, ref, props);
  }
  const interrupted = driftNote(drift) ?? (SETTLED.has(previous.status) ? undefined : `was left "${previous.status}" by an interrupted run`);
  if (!isUpdate(previous)) {
    context.emit({ ...event, action: "create", note: interrupted });
    return plannedOutput(scope, provider, ref, props);
  }
  const changes = diffJson(previous.props, next.value);
  if (!interrupted && !unknown && !context.options.force && changes.length === 0) {
    const recorded = deletionOptionChanges(previous, options);
    context.emit({ ...event, action: "noop", ...(recorded.length ? { recorded } : {}) });
    return brandOutput(previous.output, ref);
  }
  // Certain: deploy will change the resource whatever the unknown values turn out to be.
  const certain = interrupted !== undefined || context.options.force || changes.some((c) => !isUncertainChange(c));
  const replace = declaredReplacement(scope, provider, ref, previous, props, changes);
  const action: ResourceAction = replace === false ? "update" : "replace";
  const alternatives: ResourceAction[] | undefined =
    replace === undefined ? (certain ? ["update"] : ["update", "noop"]) : certain ? undefined : ["noop"];
  const refused = action === "replace" && options.protect ? { refused: "protected" as const } : {};
  context.emit({ ...event, action, changes, note: interrupted, ...(alternatives ? { alternatives } : {}), ...refused });
  if (refused.refused && !alternatives) throw new ProtectedResourceError([ref.fqn], "replace");
  if (alternatives) return unknownOutput(ref);
  if (action === "replace" && !provider.deleteBeforeReplace) {
    // Deploy deletes the old instance at finalize, and reports that delete on its own.
    context.emit({ fqn: ref.fqn, kind: ref.kind, action: "delete", status: "planned", note: "replaced instance" });
  }
  return plannedOutput(scope, provider, ref, props);
}

/** A record that deploy changes through update (or a replacement), not create. */
function isUpdate(previous: State | undefined): previous is State {
  return previous !== undefined && previous.status !== "creating" && previous.status !== "deleting";
}

/**
 * Whether the kind's `replaceOnChanges` forces a replacement for `changes`:
 * `undefined` in a plan when that depends on values known only after deploy.
 */
function declaredReplacement(scope: Scope, provider: Provider, ref: ResourceRef, previous: State, props: unknown, changes: PropChange[]): boolean | undefined {
  const declared = provider.replaceOnChanges;
  if (declared === undefined || changes.length === 0) return false;
  if (typeof declared !== "function") {
    const touched = changes.filter((c) => declared.some((path) => pathsOverlap(c.path, path)));
    if (touched.some((c) => !isUncertainChange(c))) return true;
    return touched.length > 0 ? undefined : false;
  }
  const context = planContext(scope, ref, previous);
  const call = callWithProps(scope, props, (seen) => declared.call(context, seen));
  // A decision that read a value known only after deploy (or failed on one) is no decision yet.
  if (call.readUnknown) return undefined;
  const operation = scope.phase === "plan" ? "plan" : "update";
  if (call.threw) {
    const cause = toError(call.error);
    throw new ResourceError(`The replaceOnChanges of ${ref.kind} failed for "${ref.fqn}": ${cause.message}`, ref.fqn, operation, { cause });
  }
  if (typeof call.result !== "boolean") {
    throw new ResourceError(`The replaceOnChanges of ${ref.kind} returned ${String(call.result)} for "${ref.fqn}"; return true or false.`, ref.fqn, operation);
  }
  return call.result;
}

/**
 * The output a plan hands to dependents: the kind's `plannedOutput`, when it
 * has one and computes it without reading a value known only after deploy.
 */
function plannedOutput(scope: Scope, provider: Provider, ref: ResourceRef, props: unknown) {
  const planned = provider.plannedOutput;
  if (!planned) return unknownOutput(ref);
  const context = planContext(scope, ref, undefined);
  const call = callWithProps(scope, props, (seen) => planned.call(context, ref.id, seen));
  if (call.readUnknown) return unknownOutput(ref);
  if (call.threw) {
    const cause = toError(call.error);
    throw cause instanceof ResourceError && cause.fqn === ref.fqn
      ? cause
      : new ResourceError(`The plannedOutput of ${ref.kind} failed for "${ref.fqn}": ${cause.message}`, ref.fqn, "plan", { cause });
  }
  const output = call.result;
  if (output === null || typeof output !== "object" || Array.isArray(output)) {
    throw new ResourceError(`The plannedOutput of ${ref.kind} returned ${JSON.stringify(output) ?? typeof output} for "${ref.fqn}"; return the output object.`, ref.fqn, "plan");
  }
  return brandOutput(toStorable(output, { fqn: ref.fqn, root: "output", operation: "plan" }), ref);
}

/** Calls one of the kind's plan functions; in a plan, noting whether it read a value known only after deploy. */
function callWithProps<T>(scope: Scope, props: unknown, fn: (props: unknown) => T): TrackedCall<T> {
  if (scope.phase === "plan") return trackUnknownReads(props, fn);
  try {
    return { readUnknown: false, threw: false, result: fn(props) };
  } catch (error) {
    return { readUnknown: false, threw: true, error };
  }
}

/** `this` of the kind's plan functions: about the recorded instance (`previous`), or a new one. */
function planContext(scope: Scope, ref: ResourceRef, previous: State | undefined): PlanContext<unknown, unknown> {
  return {
    phase: previous ? "update" : "create",
    id: ref.id,
    fqn: ref.fqn,
    kind: ref.kind,
    props: previous?.props,
    output: previous?.output,
    scope: scope.resourceScope(ref.id),
  };
}

async function upResource(scope: Scope, provider: Provider, ref: ResourceRef, previous: State | undefined, props: unknown, options: DeletionOptions, drift?: Drift) {
  const context = scope.context;
  const next = serializeProps(props, ref.fqn);
  if (
    previous &&
    SETTLED.has(previous.status) &&
    !context.options.force &&
    !drift &&
    jsonEqual(previous.props, next.value)
  ) {
    // protect and retain are recorded whenever they change, though the handler is not called.
    const recorded = deletionOptionChanges(previous, options);
    if (recorded.length) await scope.write(withDeletionOptions({ ...previous, seq: previous.seq + 1 }, options));
    context.emit({ fqn: ref.fqn, kind: ref.kind, action: "noop", status: "done", ...flagsOf(options), ...(recorded.length ? { recorded } : {}) });
    return brandOutput(previous.output, ref);
  }
  const interrupted = context.interruption(ref.fqn);
  if (interrupted) {
    context.fail(interrupted);
    throw interrupted;
  }
  return context.track(changeResource(scope, provider, ref, previous, props, next, options, drift));
}

/** Why a drifted resource is changed though its props may be as recorded (`undefined` without drift). */
function driftNote(drift: Drift | undefined): string | undefined {
  if (drift?.status === "gone") return "deleted outside alchemy: created again";
  if (drift?.status === "drifted") return "changed outside alchemy: put back as the program says";
  return undefined;
}

/** The event fields of a resource's protect and retain (present only when true). */
function flagsOf(options: DeletionOptions): { protect?: true; retain?: true } {
  return { ...(options.protect ? { protect: true } : {}), ...(options.retain ? { retain: true } : {}) };
}

async function changeResource(scope: Scope, provider: Provider, ref: ResourceRef, previous: State | undefined, props: unknown, next: SerializedProps, options: DeletionOptions, drift?: Drift) {
  const context = scope.context;
  let action: ResourceAction = isUpdate(previous) ? "update" : "create";
  try {
    const declared = isUpdate(previous) && declaredReplacement(scope, provider, ref, previous, props, diffJson(previous.props, next.value)) === true;
    if (declared) action = "replace";
    if (declared && options.protect) throw new ProtectedResourceError([ref.fqn], "replace");
    const note = driftNote(drift) ??
      (previous && !SETTLED.has(previous.status)
        ? `resuming: the record was left "${previous.status}" by an interrupted or failed run; calling ${action === "create" ? "create" : "update"} again`
        : undefined);
    context.emit({ fqn: ref.fqn, kind: ref.kind, action, status: "start", note });
    let state: State;
    if (isUpdate(previous)) {
      const updated = await update(scope, provider, ref, previous, next, props, declared, options);
      state = updated.state;
      if (updated.replaced) action = "replace";
    } else {
      state = await create(scope, provider, ref, previous, next, props, options);
    }
    const resourceScope = scope.children.get(ref.id);
    if (resourceScope?.ran && (resourceScope.declared.size > 0 || (await scope.storedChildren()).includes(ref.id))) {
      await resourceScope.finalize();
    }
    context.emit({ fqn: ref.fqn, kind: ref.kind, action, status: "done", changes: previous ? diffJson(previous.props, next.value) : undefined, ...flagsOf(options) });
    return brandOutput(state.output, ref);
  } catch (thrown) {
    const cause = toError(thrown);
    const error: Error =
      (cause instanceof ResourceError && cause.fqn === ref.fqn) || cause instanceof ProtectedResourceError
        ? cause
        : new ResourceError(`Failed to ${action} "${ref.fqn}": ${cause.message}`, ref.fqn, action === "create" ? "create" : "update", { cause });
    context.fail(error);
    context.emit({ fqn: ref.fqn, kind: ref.kind, action, status: "failed", error });
    throw error;
  }
}

async function create(scope: Scope, provider: Provider, ref: ResourceRef, previous: State | undefined, next: SerializedProps, props: unknown, options: DeletionOptions) {
  const creating: State = withDeletionOptions({
    status: "creating",
    kind: ref.kind,
    id: ref.id,
    fqn: ref.fqn,
    seq: (previous?.seq ?? 0) + 1,
    data: previous?.data ?? {},
    props: next.value,
    output: previous?.output,
    deps: next.deps,
    ...(previous?.replaced?.length ? { replaced: previous.replaced } : {}),
  }, options);
  await scope.write(creating);
  const result = await invokeHandler(provider.handler, call(scope, ref, "create", props, previous, true));
  const output = expectOutput(result, ref, "create");
  const created: State = { ...creating, status: "created", seq: creating.seq + 1, output };
  await scope.write(created);
  return created;
}

/**
 * Updates a recorded resource in place, or replaces it: when `declared` (the
 * kind's `replaceOnChanges` asked for it) without calling update, else when
 * update returns `this.replace()`.
 */
async function update(scope: Scope, provider: Provider, ref: ResourceRef, previous: State, next: SerializedProps, props: unknown, declared: boolean, options: DeletionOptions) {
  if (declared) {
    const base: State = withDeletionOptions({ ...previous, seq: previous.seq + 1 }, options);
    return { state: await replace(scope, provider, ref, previous, base, provider.deleteBeforeReplace ?? false, next, props, options), replaced: true };
  }
  const updating: State = withDeletionOptions({ ...previous, status: "updating", seq: previous.seq + 1 }, options);
  await scope.write(updating);
  const result = await invokeHandler(provider.handler, call(scope, ref, "update", props, previous));
  if (result.type !== "replace") {
    const updated: State = { ...updating, status: "updated", seq: updating.seq + 1, props: next.value, deps: next.deps, output: expectOutput(result, ref, "update") };
    await scope.write(updated);
    return { state: updated, replaced: false };
  }
  if (options.protect) {
    // The handler asked for a replacement: nothing was changed yet, so the record goes back as it was.
    await scope.write(withDeletionOptions({ ...previous, seq: updating.seq + 1 }, options));
    throw new ProtectedResourceError([ref.fqn], "replace");
  }
  return { state: await replace(scope, provider, ref, previous, updating, result.force, next, props, options), replaced: true };
}

/**
 * Creates the new instance of `previous`; the old one is kept in `replaced`
 * for finalize to delete, or with `deleteFirst` deleted before.
 */
async function replace(scope: Scope, provider: Provider, ref: ResourceRef, previous: State, base: State, deleteFirst: boolean, next: SerializedProps, props: unknown, options: DeletionOptions) {
  let replaced = previous.replaced ?? [];
  if (deleteFirst && options.retain) {
    // Retained: the old instance is forgotten, not deleted.
    scope.context.emit({ fqn: ref.fqn, kind: ref.kind, action: "delete", status: "done", retain: true, note: "replaced instance, not deleted" });
  } else if (deleteFirst) {
    // Recorded first, so a crash after the delete re-creates instead of updating a deleted instance.
    await scope.write({ ...base, status: "deleting" });
    await invokeHandler(provider.handler, call(scope, ref, "delete", previous.props, previous));
  } else {
    replaced = [...replaced, { props: previous.props, output: previous.output, deps: previous.deps }];
  }
  const { replaced: _old, ...rest } = base;
  const successor: State = { ...rest, status: "creating", seq: base.seq, output: undefined, ...(replaced.length ? { replaced } : {}) };
  return create(scope, provider, ref, successor, next, props, options);
}

function call(scope: Scope, ref: ResourceRef, phase: "create" | "update" | "delete" | "read", props: unknown, previous: State | undefined, creating = false) {
  return {
    scope,
    id: ref.id,
    fqn: ref.fqn,
    kind: ref.kind,
    phase,
    props,
    previousProps: creating ? undefined : previous?.props,
    previousOutput: creating && previous?.status !== "deleting" ? undefined : previous?.output,
  };
}

function expectOutput(result: HandlerResult, ref: ResourceRef, phase: string): unknown {
  if (result.type === "output") return result.output;
  throw new ResourceError(
    `The handler of "${ref.fqn}" returned ${result.type === "replace" ? "this.replace()" : "this.destroy()"} during ${phase}; return the resource's output object.`,
    ref.fqn,
    phase === "update" ? "update" : "create",
  );
}
