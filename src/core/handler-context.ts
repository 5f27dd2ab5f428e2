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

const REPLACE = Symbol.for("alchemy.replace");
const DESTROYED = Symbol.for("alchemy.destroyed");

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
   * Call as `return this.replace()` during update: the engine creates a new
   * instance (phase "create") and deletes this one when the scope is finalized.
   * `this.replace(true)` deletes this one first.
   */
  replace(force?: boolean): Output;
  /** Call as `return this.destroy()` at the end of the delete phase. */
  destroy(): Output;
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
  | { type: "destroyed" };

/** A handler as the engine calls it. */
export type RawHandler = (this: Context<unknown, unknown>, id: string, props: unknown) => Promise<unknown>;

/** Calls `handler` in the resource's own scope and classifies what it returned. */
export async function invokeHandler(handler: RawHandler, call: Invocation): Promise<HandlerResult> {
  // A run paused past its stage lock's lease may no longer act: another run may hold the stage now.
  call.scope.context.assertMayAct();
  let replaceAsked: boolean | undefined;
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
    replace(force = false) {
      if (call.phase !== "update") {
        throw new Error(`this.replace() was called during ${call.phase} of "${call.fqn}"; it is only meaningful during update.`);
      }
      replaceAsked = force;
      return REPLACE;
    },
    destroy() {
      return DESTROYED;
    },
  };
  const result = await runInScope(resourceScope, () => handler.call(context, call.id, call.props));
  if (result === REPLACE) return { type: "replace", force: replaceAsked ?? false };
  if (replaceAsked !== undefined) {
    throw new Error(`The handler of "${call.fqn}" called this.replace() but did not return its result; write \`return this.replace()\`.`);
  }
  // Nothing of a delete is recorded, so whatever it returns means done.
  if (result === DESTROYED || call.phase === "delete") return { type: "destroyed" };
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
