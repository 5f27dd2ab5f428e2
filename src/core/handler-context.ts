/**
 * `this` inside a resource handler, and how the engine calls a handler.
 *
 * @module
 */
import { runInScope } from "./context.js";
import type { Scope } from "./scope.js";
import { toStorable } from "./storable.js";

/** The handler phase: what the engine asks of the provider. */
export type HandlerPhase = "create" | "update" | "delete" | "read";

/**
 * What `this.replace()` and `this.destroy()` throw to stop the handler on the
 * spot, so that nothing after the call runs whether or not it is written as
 * `return this.replace()` (handlers written for Alchemy 0.94 leave the
 * `return` out). {@link invokeHandler} recognises the very object it threw,
 * never a look-alike. Not an Error (no stack to capture on every delete), but
 * it has a `message`, so a catch-all in a handler that logs what it caught
 * says what went wrong.
 */
class HandlerStop {
  readonly name = "HandlerStop";
  readonly message: string;
  constructor(
    readonly result: Extract<HandlerResult, { type: "replace" | "destroyed" | "gone" | "observed" }>,
    readonly call: string,
    fqn: string,
  ) {
    this.message =
      `${call} stops the handler of "${fqn}" here, and the engine takes it from there. ` +
      "Seeing this means a try/catch in the handler caught it: let it through (rethrow what you did not throw yourself).";
  }

  toString(): string {
    return `${this.name}: ${this.message}`;
  }
}

/**
 * What a handler sees as `this`.
 *
 * @example
 * if (this.phase === "delete") { await rm(this.output.path); return this.destroy(); }
 * if (this.phase === "update" && this.props.name !== props.name) return this.replace();
 */
export interface Context<Output, Props = unknown> {
  /** What to do now. */
  readonly phase: HandlerPhase;
  /** Resource id, unique within its scope. */
  readonly id: string;
  /** Fully qualified name, e.g. `my-app/dev/backend/db`. */
  readonly fqn: string;
  /** Resource kind, e.g. `fs::File`. */
  readonly kind: string;
  /** Props of the last successful create/update; `undefined` on create. */
  readonly props: Props;
  /** Output of the last successful create/update; `undefined` on create (and for an interrupted create being deleted). */
  readonly output: Output;
  /** This resource's own scope: resources declared in the handler live there. */
  readonly scope: Scope;
  /** True when the run was asked to adopt existing resources on create. */
  readonly adopt: boolean;
  /**
   * The settings of `provider` in the run's credential profile (or the
   * scope's override), e.g. `this.credentials<{ url: string }>("postgres")`.
   * Throws a ProfileError naming the profile and provider when there are none.
   */
  credentials<T extends object = Record<string, unknown>>(provider: string): T;
  /**
   * During update: replace this instance instead of updating it. The engine
   * creates a new instance (phase "create") and deletes this one when the
   * scope is finalized; `this.replace(true)` deletes this one first.
   *
   * The call stops the handler where it is (it throws a signal the engine
   * catches), so `return this.replace()` and a bare `this.replace();` (the
   * Alchemy 0.94 form) do the same and nothing after the call runs. A
   * try/catch around it must let that signal through: a handler that
   * catches it and returns normally has gone on past its decision, and the
   * engine refuses the update (the record stays `updating`; the next run
   * updates again). Throws an error when called outside update.
   *
   * @example
   * if (props.name !== this.props.name) return this.replace();
   */
  replace(force?: boolean): never;
  /**
   * At the end of the delete phase: the resource is gone. Like
   * {@link replace}, the call stops the handler where it is, with or without
   * `return`. Returning from a delete handler in any other way means the same.
   *
   * @example
   * await api.remove(this.output.name);
   * return this.destroy();
   */
  destroy(): never;
  /**
   * During read: the resource no longer exists in the world (deleted outside
   * alchemy). A refresh then reports it `gone`: `plan --refresh` plans to
   * create it again, `deploy --refresh` creates it, `alchemy refresh` removes
   * its record; the read phase fails naming it. Like {@link destroy}, the call
   * stops the handler where it is. Throws an error when called outside read.
   *
   * @example
   * if (!(await api.exists(this.output.id))) return this.gone();
   */
  gone(): never;
  /**
   * During read: the resource as found, in the terms of its props as well as
   * its output, so that a refresh can say which prop was changed outside
   * alchemy (`content: "<h1>Hi</h1>" -> "<h1>edited by hand</h1>"`), and a
   * deploy puts it back. `props` are the recorded props (`this.props`) with
   * what the world holds instead; a read that returns only the output says
   * the props are as recorded. Stops the handler where it is, like
   * {@link destroy}. Throws an error when called outside read.
   *
   * @example
   * const text = await readFile(this.output.path, "utf8");
   * return this.observed({ ...this.output, size: text.length }, { ...this.props, content: text });
   */
  observed(output: Output, props: Props): never;
}

/** What the engine needs to call a handler. */
export interface Invocation {
  scope: Scope;
  id: string;
  fqn: string;
  kind: string;
  phase: HandlerPhase;
  props: unknown;
  previousProps: unknown;
  previousOutput: unknown;
}

/** What a handler call came back with. */
export type HandlerResult =
  | { type: "output"; output: unknown }
  | { type: "replace"; force: boolean }
  | { type: "destroyed" }
  /** A read found the resource deleted outside alchemy (`this.gone()`). */
  | { type: "gone" }
  /** A read found the resource with these props and output (`this.observed(output, props)`). */
  | { type: "observed"; output: unknown; props: unknown };

/** A handler as the engine calls it. */
export type RawHandler = (this: Context<unknown, unknown>, id: string, props: unknown) => Promise<unknown>;

/** Calls `handler` in the resource's own scope and classifies what it returned. */
export async function invokeHandler(handler: RawHandler, call: Invocation): Promise<HandlerResult> {
  // A run paused past its stage lock's lease may no longer act: another run may hold the stage now.
  call.scope.context.assertMayAct();
  // Set by replace() or destroy() to the signal they throw (a property, so closures may set it).
  const stopped: { signal?: HandlerStop } = {};
  const resourceScope = call.scope.resourceScope(call.id);
  if (call.phase === "create" || call.phase === "update") resourceScope.ran = true;
  const context: Context<unknown, unknown> = {
    phase: call.phase,
    id: call.id,
    fqn: call.fqn,
    kind: call.kind,
    props: call.previousProps,
    output: call.previousOutput,
    scope: resourceScope,
    adopt: call.scope.context.options.adopt,
    credentials: <T extends object>(provider: string) => call.scope.credentials.for<T>(provider),
    replace(force = false): never {
      if (call.phase !== "update") {
        throw new Error(`this.replace() was called during ${call.phase} of "${call.fqn}"; it is only meaningful during update.`);
      }
      throw (stopped.signal = new HandlerStop({ type: "replace", force: Boolean(force) }, "this.replace()", call.fqn));
    },
    destroy(): never {
      throw (stopped.signal = new HandlerStop({ type: "destroyed" }, "this.destroy()", call.fqn));
    },
    gone(): never {
      if (call.phase !== "read") throw new Error(`this.gone() was called during ${call.phase} of "${call.fqn}"; it is only meaningful during read.`);
      throw (stopped.signal = new HandlerStop({ type: "gone" }, "this.gone()", call.fqn));
    },
    observed(output: unknown, props: unknown): never {
      if (call.phase !== "read") throw new Error(`this.observed() was called during ${call.phase} of "${call.fqn}"; it is only meaningful during read.`);
      const storable = (value: unknown, root: "output" | "props") =>
        toStorable(value, { fqn: call.fqn, root, operation: "read" });
      const result = { type: "observed" as const, output: storable(output, "output"), props: storable(props, "props") };
      throw (stopped.signal = new HandlerStop(result, "this.observed()", call.fqn));
    },
  };
  let result: unknown;
  try {
    result = await runInScope(resourceScope, () => handler.call(context, call.id, call.props));
  } catch (thrown) {
    if (stopped.signal !== undefined && thrown === stopped.signal) return stopped.signal.result;
    throw thrown;
  }
  const stop = stopped.signal;
  // Nothing of a delete is recorded, so whatever it returns means done.
  if (call.phase === "delete") return { type: "destroyed" };
  if (stop !== undefined) {
    throw new Error(
      `The handler of "${call.fqn}" called ${stop.call} during ${call.phase}, then went on and returned: a try/catch in it caught ` +
        `the signal with which ${stop.call} stops the handler. Let it through (rethrow what you did not throw yourself), ` +
        `or call ${stop.call} outside the try.`,
    );
  }
  if (result === undefined) return { type: "output", output: {} };
  if (result === null || typeof result !== "object" || Array.isArray(result)) {
    throw new Error(`The handler of "${call.fqn}" returned ${describeResult(result)} from ${call.phase}; return an object (the resource's output).`);
  }
  // Checked and copied here, so a handler cannot change the recorded output later.
  return { type: "output", output: toStorable(result, { fqn: call.fqn, root: "output", operation: call.phase }) };
}

function describeResult(result: unknown): string {
  if (Array.isArray(result)) return "an array";
  if (typeof result === "function" || typeof result === "bigint" || typeof result === "symbol") return `a ${typeof result}`;
  if (typeof result === "number" && !Number.isFinite(result)) return String(result);
  return JSON.stringify(result);
}
