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
 * 4. No longer declared -> deleted at finalize (see finalize.ts).
 *
 * @module
 */
import type { State } from "../state/state-store.js";
import { ResourceError, toError } from "./errors.js";
import type { ResourceAction } from "./events.js";
import { invokeHandler, type HandlerResult, type RawHandler } from "./handler-context.js";
import { brandOutput, unknownOutput, type ResourceRef } from "./output.js";
import { diffJson, jsonEqual, serializeProps, type SerializedProps } from "./props.js";
import type { Scope } from "./scope.js";

/** A resource kind as the engine applies it. */
export interface Provider {
  kind: string;
  handler: RawHandler;
  /** Optional refresh used in the read phase. */
  read?: RawHandler;
}

const SETTLED = new Set(["created", "updated"]);

/** Applies one declared resource according to the run's phase; resolves to its output. */
export async function applyResource(scope: Scope, provider: Provider, id: string, props: unknown): Promise<unknown> {
  const fqn = `${scope.path}/${id}`;
  const ref: ResourceRef = { fqn, kind: provider.kind, id };
  const records = await scope.records();
  const previous = records.get(id);
  if (previous && previous.kind !== provider.kind) {
    throw new ResourceError(
      `"${fqn}" is recorded as a ${previous.kind} but the program declares a ${provider.kind} with that id. Use another id, or delete the old one first (remove it from the program and deploy).`,
      fqn,
      "plan",
    );
  }
  switch (scope.phase) {
    case "read":
      return readResource(scope, provider, ref, previous, props);
    case "destroy":
      return previous?.output !== undefined ? brandOutput(previous.output, ref) : unknownOutput(ref);
    case "plan":
      return planResource(scope, ref, previous, serializeProps(props, fqn));
    case "up":
      return upResource(scope, provider, ref, previous, props);
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
    if (result.type === "output") output = result.output;
  }
  scope.context.emit({ fqn: ref.fqn, kind: ref.kind, action: "read", status: "done", output });
  return brandOutput(output, ref);
}

function planResource(scope: Scope, ref: ResourceRef, previous: State | undefined, next: SerializedProps) {
  const context = scope.context;
  const event = { fqn: ref.fqn, kind: ref.kind, status: "planned" as const, unknown: next.unknown || undefined };
  if (!previous) {
    context.emit({ ...event, action: "create", changes: diffJson(undefined, next.value) });
    return unknownOutput(ref);
  }
  if (!SETTLED.has(previous.status)) {
    const action: ResourceAction = previous.status === "updating" ? "update" : "create";
    context.emit({ ...event, action, note: `was left "${previous.status}" by an interrupted run` });
    return unknownOutput(ref);
  }
  if (!next.unknown && !context.options.force && jsonEqual(previous.props, next.value)) {
    context.emit({ ...event, action: "noop" });
    return brandOutput(previous.output, ref);
  }
  context.emit({ ...event, action: "update", changes: diffJson(previous.props, next.value) });
  return unknownOutput(ref);
}

async function upResource(scope: Scope, provider: Provider, ref: ResourceRef, previous: State | undefined, props: unknown) {
  const context = scope.context;
  const next = serializeProps(props, ref.fqn);
  if (
    previous &&
    SETTLED.has(previous.status) &&
    !context.options.force &&
    jsonEqual(previous.props, next.value)
  ) {
    context.emit({ fqn: ref.fqn, kind: ref.kind, action: "noop", status: "done" });
    return brandOutput(previous.output, ref);
  }
  const interrupted = context.interruption(ref.fqn);
  if (interrupted) {
    context.fail(interrupted);
    throw interrupted;
  }
  return context.track(changeResource(scope, provider, ref, previous, props, next));
}

async function changeResource(scope: Scope, provider: Provider, ref: ResourceRef, previous: State | undefined, props: unknown, next: SerializedProps) {
  const context = scope.context;
  const updating = previous !== undefined && previous.status !== "creating" && previous.status !== "deleting";
  let action: ResourceAction = updating ? "update" : "create";
  const note =
    previous && !SETTLED.has(previous.status)
      ? `resuming: the record was left "${previous.status}" by an interrupted or failed run; calling ${action} again`
      : undefined;
  context.emit({ fqn: ref.fqn, kind: ref.kind, action, status: "start", note });
  try {
    let state: State;
    if (updating) {
      state = await update(scope, provider, ref, previous, next, props);
      if (state.replaced && state.replaced.length > (previous.replaced?.length ?? 0)) action = "replace";
    } else {
      state = await create(scope, provider, ref, previous, next, props);
    }
    const resourceScope = scope.children.get(ref.id);
    if (resourceScope?.ran && (resourceScope.declared.size > 0 || (await scope.storedChildren()).includes(ref.id))) {
      await resourceScope.finalize();
    }
    context.emit({ fqn: ref.fqn, kind: ref.kind, action, status: "done", changes: previous ? diffJson(previous.props, next.value) : undefined });
    return brandOutput(state.output, ref);
  } catch (thrown) {
    const cause = toError(thrown);
    const error =
      cause instanceof ResourceError && cause.fqn === ref.fqn
        ? cause
        : new ResourceError(`Failed to ${action} "${ref.fqn}": ${cause.message}`, ref.fqn, action === "update" ? "update" : "create", { cause });
    context.fail(error);
    context.emit({ fqn: ref.fqn, kind: ref.kind, action, status: "failed", error });
    throw error;
  }
}

async function create(scope: Scope, provider: Provider, ref: ResourceRef, previous: State | undefined, next: SerializedProps, props: unknown) {
  const creating: State = {
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
  };
  await scope.write(creating);
  const result = await invokeHandler(provider.handler, call(scope, ref, "create", props, previous, true));
  const output = expectOutput(result, ref, "create");
  const created: State = { ...creating, status: "created", seq: creating.seq + 1, output };
  await scope.write(created);
  return created;
}

async function update(scope: Scope, provider: Provider, ref: ResourceRef, previous: State, next: SerializedProps, props: unknown) {
  const updating: State = { ...previous, status: "updating", seq: previous.seq + 1 };
  await scope.write(updating);
  const result = await invokeHandler(provider.handler, call(scope, ref, "update", props, previous));
  if (result.type !== "replace") {
    const updated: State = { ...updating, status: "updated", seq: updating.seq + 1, props: next.value, deps: next.deps, output: expectOutput(result, ref, "update") };
    await scope.write(updated);
    return updated;
  }
  let replaced = previous.replaced ?? [];
  if (result.force) {
    // Recorded first, so a crash after the delete re-creates instead of updating a deleted instance.
    await scope.write({ ...updating, status: "deleting" });
    await invokeHandler(provider.handler, call(scope, ref, "delete", previous.props, previous));
  } else {
    replaced = [...replaced, { props: previous.props, output: previous.output, deps: previous.deps }];
  }
  const { replaced: _old, ...rest } = updating;
  const successor: State = { ...rest, status: "creating", seq: updating.seq, output: undefined, ...(replaced.length ? { replaced } : {}) };
  return create(scope, provider, ref, successor, next, props);
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
