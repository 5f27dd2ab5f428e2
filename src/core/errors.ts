/**
 * The engine's typed errors. Each names where the problem is (a scope path,
 * a resource fqn or a file) and says how to fix it.
 *
 * @module
 */
import { inspect } from "node:util";

/** Base class of every error the engine throws on purpose. */
export class AlchemyError extends Error {
  override name = "AlchemyError";
}

/** A scope was misused: invalid name, duplicate id, no active scope. */
export class ScopeError extends AlchemyError {
  override name = "ScopeError";
  constructor(
    message: string,
    /** Path of the scope concerned, e.g. `my-app/dev/backend`. */
    readonly scopePath?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A state store could not read or write a record. */
export class StateStoreError extends AlchemyError {
  override name = "StateStoreError";
  constructor(
    message: string,
    /** Where the record lives: an absolute file path, a table row, a key. */
    readonly location: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A resource handler failed, or a resource was used against its contract. */
export class ResourceError extends AlchemyError {
  override name = "ResourceError";
  constructor(
    message: string,
    /** fqn of the resource, e.g. `my-app/dev/backend/db`. */
    readonly fqn: string,
    /** What the engine was doing when it failed. */
    readonly operation: "create" | "update" | "delete" | "read" | "plan",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Props or a handler's output hold a value the engine cannot store exactly (a
 * Map, a Date, NaN, a getter, a cycle, ...). Thrown before anything is written
 * for props; for an output, before the output is recorded.
 *
 * @example
 * // Props of "my-app/dev/api" cannot be stored: props.tags is a Map. ...
 * if (error instanceof UnstorableValueError) console.error(error.fqn, error.path);
 */
export class UnstorableValueError extends ResourceError {
  override name = "UnstorableValueError";
  constructor(
    message: string,
    fqn: string,
    operation: ResourceError["operation"],
    /** Where the value is, e.g. `props.tags` or `output.client.config`. */
    readonly path: string,
  ) {
    super(message, fqn, operation);
  }
}

/** The run was asked to stop (Ctrl-C) before this resource's operation started. */
export class InterruptedError extends AlchemyError {
  override name = "InterruptedError";
  constructor(
    /** fqn of the resource left as it was. */
    readonly fqn: string,
    /** Why the run stopped, when it was not asked to (e.g. its stage lock was lost). */
    readonly reason?: Error,
  ) {
    super(`"${fqn}" was not started: ${reason ? `the run stopped (${reason.message})` : "the run was interrupted. Run again to finish."}`);
  }
}

/**
 * An option given by the launcher (a flag of the `alchemy` command line)
 * contradicts the value the program sets explicitly. Thrown by `alchemy()`
 * before anything is read, locked or run; the command line reports it as a
 * usage error.
 *
 * @example
 * // --stage prod contradicts stage: "dev" set by application "shop" in the program. Nothing was run. ...
 * if (error instanceof OptionConflictError) console.error(error.option, error.appName);
 */
export class OptionConflictError extends AlchemyError {
  override name = "OptionConflictError";
  constructor(
    message: string,
    /** The option both set, e.g. `stage`. */
    readonly option: string,
    /** The application whose program pins the option. */
    readonly appName: string,
  ) {
    super(message);
  }
}

/**
 * A destroy was declined at its confirmation (the user did not answer "yes"):
 * nothing was deleted. A cancellation, not a failure of the stage.
 *
 * @example
 * // Destroy of stage "dev" of application "shop" cancelled; nothing was deleted.
 * if (error instanceof DestroyCancelledError) console.log(`kept ${error.appName}/${error.stage}`);
 */
export class DestroyCancelledError extends AlchemyError {
  override name = "DestroyCancelledError";
  constructor(
    readonly appName: string,
    readonly stage: string,
  ) {
    super(`Destroy of stage "${stage}" of application "${appName}" cancelled; nothing was deleted.`);
  }
}

/** One resource that could not be deleted, and why. */
export interface DeleteFailure {
  fqn: string;
  error: Error;
}

/**
 * A destroy or orphan clean-up finished with failures. Everything that could be
 * deleted was; each failed resource is still in state.
 */
export class DestroyError extends AlchemyError {
  override name = "DestroyError";
  constructor(
    /** Every resource that was not deleted, with its cause. */
    readonly failures: DeleteFailure[],
  ) {
    super(
      `${failures.length} resource(s) could not be deleted and remain in state:\n` +
        failures.map((f) => `  - ${f.fqn}: ${f.error.message}`).join("\n") +
        "\nFix the cause and run again; deleted resources stay deleted.",
    );
  }
}

/**
 * A run would delete or replace resources recorded with `protect: true`. It
 * fails before anything is deleted (or, for a replacement, before the new
 * instance is created).
 */
export class ProtectedResourceError extends AlchemyError {
  override name = "ProtectedResourceError";
  constructor(
    /** fqns of the protected resources the run would have deleted or replaced. */
    readonly fqns: string[],
    /** What the run would have done to them. */
    readonly action: "delete" | "replace",
  ) {
    super(
      `${action === "delete" ? "This run would delete" : "This run would replace"} ${fqns.length === 1 ? "a protected resource" : `${fqns.length} protected resources`}, so it stopped before ${action === "delete" ? "deleting anything" : "replacing it"}:\n` +
        fqns.map((fqn) => `  - ${fqn}`).join("\n") +
        "\nTo go on, deploy once with `protect: false` on " + (fqns.length === 1 ? "it" : "them") +
        ", or run `alchemy state unprotect <fqn>`; then run again.",
    );
  }
}

/**
 * A deploy's orphan clean-up would delete more of the stage than its
 * `maxDeletes` allows (by default more than half, and at least 5): the usual
 * sign of a program that skipped part of itself. Nothing was deleted.
 */
export class MassDeletionError extends AlchemyError {
  override name = "MassDeletionError";
  constructor(
    /** The stage, e.g. `my-app/prod`. */
    readonly stagePath: string,
    /** fqns the deploy would have deleted. */
    readonly fqns: string[],
    /** Records in the stage when the clean-up began. */
    readonly total: number,
    /** The limit, as the user spelled it (`50%`, `10`). */
    readonly limit: string,
  ) {
    const shown = fqns.slice(0, 20).map((fqn) => `  - ${fqn}`);
    if (fqns.length > shown.length) shown.push(`  ... and ${fqns.length - shown.length} more`);
    super(
      `Stage "${stagePath}": this deploy would delete ${fqns.length} of its ${total} resources (more than maxDeletes ${limit}), ` +
        "because the program no longer declares them. Nothing was deleted:\n" +
        shown.join("\n") +
        "\nIf the program skipped part of itself (a missing environment variable, a condition), fix it and deploy again. " +
        "If these deletions are intended, deploy with --allow-deletes (or the option allowDeletes: true), or raise maxDeletes.",
    );
  }
}

/**
 * Normalizes anything thrown into an Error whose message says what was
 * thrown: an Error as it is; a string as the message; an object with a string
 * `message` (an error from another realm, a plain `{ message }`) by that
 * message; anything else by a short inspection instead of `[object Object]`.
 * A thrown value other than an Error or a string is kept as `cause`.
 *
 * @example
 * toError({ message: "quota exceeded", code: 429 }).message; // "quota exceeded"
 * toError({ code: 429 }).message; // "a non-error value was thrown: { code: 429 }"
 */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === "string") return new Error(thrown);
  const message = typeof thrown === "object" && thrown !== null ? safeMessage(thrown) : undefined;
  if (message !== undefined && message !== "") return new Error(message, { cause: thrown });
  return new Error(`a non-error value was thrown: ${inspect(thrown, { depth: 2, breakLength: Infinity, maxStringLength: 200, maxArrayLength: 10 })}`, { cause: thrown });
}

function safeMessage(thrown: object): string | undefined {
  try {
    const message = (thrown as { message?: unknown }).message;
    return typeof message === "string" ? message : undefined;
  } catch {
    return undefined; // a throwing getter or proxy
  }
}
