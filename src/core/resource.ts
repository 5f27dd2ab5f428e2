/**
 * `Resource(kind, [options], handler)`: defines a kind of resource. The result
 * is an async function; `await Thing("id", props)` declares the resource in
 * the current scope and resolves to its output.
 *
 * @module
 */
import { currentScope } from "./context.js";
import { checkDeletionOptions, type DeletionOptions } from "./deletion-options.js";
import { ScopeError } from "./errors.js";
import type { Context, RawHandler } from "./handler-context.js";
import { applyResource, type Provider } from "./lifecycle.js";
import { registerProvider } from "./providers.js";
import type { Scope } from "./scope.js";

/** A handler in one function: `this.phase` says what to do. */
export type ResourceHandler<Output extends object, Props> = (
  this: Context<Output, Props>,
  id: string,
  props: Props,
) => Promise<Output>;

/** A handler as one method per phase (the seeds' class-style resources). */
export interface ResourceLifecycle<Output extends object, Props> {
  create(this: Context<Output, Props>, id: string, props: Props): Promise<Output>;
  update(this: Context<Output, Props>, id: string, props: Props): Promise<Output>;
  /** Receives the recorded props; `this.output` is the recorded output. */
  delete(this: Context<Output, Props>, id: string, props: Props): Promise<void | Output>;
  /** Used in the read phase to refresh the recorded output, if present. */
  read?(this: Context<Output, Props>, id: string, props: Props): Promise<Output>;
}

/**
 * `this` in the functions of {@link ResourceOptions}: what a plan knows of the
 * resource without touching the world. Nothing may be created, changed or
 * read outside the process here.
 */
export interface PlanContext<Output, Props> {
  /** `create` when there is no record (or the record is of an interrupted create), else `update`. */
  readonly phase: "create" | "update";
  /** Resource id, unique within its scope. */
  readonly id: string;
  /** Fully qualified name, e.g. `my-app/dev/backend/db`. */
  readonly fqn: string;
  /** Resource kind, e.g. `fs::File`. */
  readonly kind: string;
  /** Recorded props; `undefined` on create. */
  readonly props: Props;
  /** Recorded output; `undefined` on create. */
  readonly output: Output;
  /** The resource's own scope (as `this.scope` in the handler): `scope.rootDir`, `scope.chain`. */
  readonly scope: Scope;
}

/**
 * What a plan can know of a resource kind from props alone, so that
 * `alchemy plan` says what deploy then does. Every member is optional; a
 * resource without them is planned as before (update on any prop change, its
 * output known only after deploy).
 */
export interface ResourceOptions<Output, Props> {
  /**
   * Which prop changes force a replacement: a new instance is created (the
   * handler is called with phase `create`) and the recorded one is deleted at
   * finalize, as when update returns `this.replace()`. The handler's update is
   * not called at all; plan reports `replace` with the changed paths, and the
   * deletion of the old instance as a `delete`.
   *
   * Either prop paths, in the form plan prints them (`name`, `bindings.KV`,
   * `tags[0]`, `*` for any one key or index): a change at the path, inside it,
   * or of a value that holds it, forces the replacement. Or a function of the
   * new props (`this.props` and `this.output` are the recorded ones) that
   * returns true to replace: for a decision that needs more than a path, such
   * as two paths that name the same folder. It is called only when the props
   * differ from the recorded ones; it must be pure and fast, and what it throws
   * fails the plan or the deploy of the resource.
   *
   * In a plan, a decision that depends on an output known only after deploy
   * (of a resource being updated or replaced) cannot be taken: a changed path
   * whose new value is unknown, or a function that reads an unknown value (the
   * engine notes every read). Plan then reports `replace` with `alternatives`
   * (`or update`, `or unchanged`). A function that reads only known values
   * decides, whatever else is unknown.
   *
   * A handler may still return `this.replace()` during update for reasons a
   * plan cannot see; plan then says `update` where deploy replaces.
   *
   * @default undefined (replace only when the handler returns `this.replace()`)
   * @example
   * replaceOnChanges: ["name", "region"]
   * @example
   * replaceOnChanges(props) { return normalize(props.name) !== normalize(this.props.name); }
   */
  replaceOnChanges?: readonly string[] | ((this: PlanContext<Output, Props>, props: Props) => boolean);
  /**
   * For replacements forced by {@link replaceOnChanges}: delete the recorded
   * instance before creating the new one (as `this.replace(true)` does), for
   * things that cannot exist twice at once, such as a unique name. Its
   * deletion is recorded (`deleting`) before the delete handler runs, so a
   * crash in between creates the new instance on the next run.
   *
   * @default false (create the new instance first, delete the old one at finalize)
   */
  deleteBeforeReplace?: boolean;
  /**
   * The output the handler will return for these props, computed from the
   * props alone (and `this.scope`), for resources whose whole output follows
   * from their props, such as files and folders. In a plan, resources that
   * depend on this one then see its future output instead of values "known
   * after apply", so the plan knows whether they change. When it reads a
   * value of the props known only after deploy, its result is not used (the
   * output stays unknown); otherwise what it throws fails the plan of the
   * resource (deploy would fail the same way). Leave it out when any part of
   * the output is decided by the world (ids, random values).
   *
   * @default undefined (in a plan, the output of a created, updated or replaced resource is unknown)
   * @example
   * plannedOutput(id, props) { return { name: props.name, url: `https://${props.name}.example.com` }; }
   */
  plannedOutput?(this: PlanContext<Output, Props>, id: string, props: Props): Output;
  /**
   * For a resource defined by one function: how the read phase (`alchemy read`)
   * refreshes the recorded output from the world, as the object form's `read`
   * does. `this.output` is the recorded output; what it returns is shown, what
   * it throws fails the read of the resource. Nothing is written.
   *
   * @default undefined (the read phase shows the recorded output)
   * @example
   * async read() { if (!(await api.exists(this.output.id))) throw new Error("gone"); return this.output; }
   */
  read?(this: Context<Output, Props>, id: string, props: Props): Promise<Output>;
}

/**
 * What `Resource(...)` returns: declare a resource by calling it, with
 * {@link DeletionOptions} (`protect`, `retain`) as an optional third argument.
 */
export interface ResourceFactory<Output extends object, Props> {
  (id: string, ...args: undefined extends Props ? [props?: Props, options?: DeletionOptions] : [props: Props, options?: DeletionOptions]): Promise<Output>;
  /** The kind, e.g. `fs::File`. */
  readonly kind: string;
}

/**
 * Defines a resource kind: `Resource(kind, handler)`, `Resource(kind, { create,
 * update, delete, read? })`, or either with {@link ResourceOptions} first
 * (the object form may also hold the options itself).
 *
 * @example
 * export const Bucket = Resource("demo::Bucket", async function (
 *   this: Context<BucketOutput, BucketProps>, id: string, props: BucketProps,
 * ): Promise<BucketOutput> {
 *   if (this.phase === "delete") { await api.delete(this.output.name); return this.destroy(); }
 *   if (this.phase === "update" && props.name !== this.props.name) return this.replace();
 *   return await api.put(props.name);
 * });
 * const bucket = await Bucket("assets", { name: "assets" });
 *
 * @example
 * // Declared: plan says `replace` when `name` changes, and deploy replaces without calling update.
 * export const Bucket = Resource("demo::Bucket", { replaceOnChanges: ["name"] }, async function (
 *   this: Context<BucketOutput, BucketProps>, id: string, props: BucketProps,
 * ): Promise<BucketOutput> {
 *   if (this.phase === "delete") { await api.delete(this.output.name); return this.destroy(); }
 *   return await api.put(props.name); // create, or update in place (the name is the same)
 * });
 */
export function Resource<Output extends object, Props = undefined>(
  kind: string,
  handler: ResourceHandler<Output, Props> | (ResourceLifecycle<Output, Props> & ResourceOptions<Output, Props>),
): ResourceFactory<Output, Props>;
export function Resource<Output extends object, Props = undefined>(
  kind: string,
  options: ResourceOptions<Output, Props>,
  handler: ResourceHandler<Output, Props> | ResourceLifecycle<Output, Props>,
): ResourceFactory<Output, Props>;
export function Resource<Output extends object, Props = undefined>(
  kind: string,
  optionsOrHandler: ResourceOptions<Output, Props> | ResourceHandler<Output, Props> | (ResourceLifecycle<Output, Props> & ResourceOptions<Output, Props>),
  maybeHandler?: ResourceHandler<Output, Props> | ResourceLifecycle<Output, Props>,
): ResourceFactory<Output, Props> {
  if (typeof kind !== "string" || !/^[\w.-]+(::[\w.-]+)*$/.test(kind)) {
    throw new TypeError(`Invalid resource kind ${JSON.stringify(kind)}: use a name like "family::Thing".`);
  }
  const handler = (maybeHandler ?? optionsOrHandler) as ResourceHandler<Output, Props> | ResourceLifecycle<Output, Props>;
  const options = (maybeHandler ? optionsOrHandler : typeof optionsOrHandler === "function" ? {} : optionsOrHandler) as ResourceOptions<object, unknown>;
  if (typeof handler !== "function" && (handler === null || typeof handler !== "object")) {
    throw new TypeError(`Resource ${kind} needs a handler: a function, or an object with create, update and delete.`);
  }
  const provider: Provider = {
    ...checkedOptions(kind, options),
    ...(typeof handler === "function"
      ? { kind, handler: handler as RawHandler, read: options.read as RawHandler | undefined }
      : { kind, handler: fromLifecycle(handler as ResourceLifecycle<object, unknown>), read: handler.read as RawHandler | undefined }),
  };
  registerProvider(kind, provider.handler);
  const declare = (id: string, props?: Props, options?: DeletionOptions): Promise<Output> => {
    const scope = currentScope();
    if (!scope || scope.kind === "application") {
      throw new ScopeError(
        `${kind} "${id}" was declared outside an application. Call \`await alchemy("my-app")\` before declaring resources, or declare it inside alchemy.run(...).`,
      );
    }
    const own = checkDeletionOptions(options, `${kind} "${scope.path}/${id}"`);
    return scope.declare(id, () => applyResource(scope, provider, id, props, own)) as Promise<Output>;
  };
  return Object.assign(declare, { kind }) as ResourceFactory<Output, Props>;
}

/** The options as the engine keeps them, refused early when malformed. */
function checkedOptions(kind: string, options: ResourceOptions<object, unknown>): Omit<Provider, "kind" | "handler" | "read"> {
  const { replaceOnChanges, deleteBeforeReplace, plannedOutput } = options;
  if (replaceOnChanges !== undefined && typeof replaceOnChanges !== "function") {
    if (!Array.isArray(replaceOnChanges) || replaceOnChanges.some((p) => typeof p !== "string" || p.length === 0)) {
      throw new TypeError(
        `Resource ${kind}: replaceOnChanges must be a list of prop paths such as ["name", "tags[0]", "bindings.*.id"], or a function of the props.`,
      );
    }
  }
  if (options.read !== undefined && typeof options.read !== "function") {
    throw new TypeError(`Resource ${kind}: read must be a function of (id, props) returning the refreshed output.`);
  }
  if (plannedOutput !== undefined && typeof plannedOutput !== "function") {
    throw new TypeError(`Resource ${kind}: plannedOutput must be a function of (id, props) returning the output.`);
  }
  return {
    ...(replaceOnChanges !== undefined ? { replaceOnChanges: typeof replaceOnChanges === "function" ? replaceOnChanges : [...replaceOnChanges] } : {}),
    ...(deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
    ...(plannedOutput ? { plannedOutput } : {}),
  } as Omit<Provider, "kind" | "handler" | "read">;
}

function fromLifecycle(methods: ResourceLifecycle<object, unknown>): RawHandler {
  return function (this: Context<unknown, unknown>, id: string, props: unknown) {
    const self = this as Context<object, unknown>;
    if (this.phase === "create") return methods.create.call(self, id, props);
    if (this.phase === "update") return methods.update.call(self, id, props);
    if (this.phase === "delete") return methods.delete.call(self, id, props);
    return (methods.read ?? (async () => this.output as object)).call(self, id, props);
  };
}
