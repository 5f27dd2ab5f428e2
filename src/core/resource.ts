/**
 * `Resource(kind, handler)`: defines a kind of resource. The result is an
 * async function; `await Thing("id", props)` declares the resource in the
 * current scope and resolves to its output.
 *
 * @module
 */
import { currentScope } from "./context.js";
import { ScopeError } from "./errors.js";
import type { Context, RawHandler } from "./handler-context.js";
import { applyResource, type Provider } from "./lifecycle.js";
import { registerProvider } from "./providers.js";

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

/** What `Resource(...)` returns: declare a resource by calling it. */
export interface ResourceFactory<Output extends object, Props> {
  (id: string, ...props: undefined extends Props ? [props?: Props] : [props: Props]): Promise<Output>;
  /** The kind, e.g. `fs::File`. */
  readonly kind: string;
}

/**
 * Defines a resource kind.
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
 */
export function Resource<Output extends object, Props = undefined>(
  kind: string,
  handler: ResourceHandler<Output, Props> | ResourceLifecycle<Output, Props>,
): ResourceFactory<Output, Props> {
  if (typeof kind !== "string" || !/^[\w.-]+(::[\w.-]+)*$/.test(kind)) {
    throw new TypeError(`Invalid resource kind ${JSON.stringify(kind)}: use a name like "family::Thing".`);
  }
  const provider: Provider =
    typeof handler === "function"
      ? { kind, handler: handler as RawHandler }
      : { kind, handler: fromLifecycle(handler as ResourceLifecycle<object, unknown>), read: handler.read as RawHandler | undefined };
  registerProvider(kind, provider.handler);
  const declare = (id: string, props?: Props): Promise<Output> => {
    const scope = currentScope();
    if (!scope || scope.kind === "application") {
      throw new ScopeError(
        `${kind} "${id}" was declared outside an application. Call \`await alchemy("my-app")\` before declaring resources, or declare it inside alchemy.run(...).`,
      );
    }
    return scope.declare(id, () => applyResource(scope, provider, id, props)) as Promise<Output>;
  };
  return Object.assign(declare, { kind }) as ResourceFactory<Output, Props>;
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
