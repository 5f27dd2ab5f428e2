/**
 * The registry of resource kinds: `Resource(kind, ...)` records its handler here
 * so that a resource the program no longer declares can still be deleted, as
 * long as the module that defines its kind is imported.
 *
 * @module
 */
import { ResourceError } from "./errors.js";
import type { RawHandler } from "./handler-context.js";

const handlers = new Map<string, RawHandler>();

/** Records the handler of `kind`; a later registration of the same kind replaces it. */
export function registerProvider(kind: string, handler: RawHandler): void {
  handlers.set(kind, handler);
}

/** The handler of `kind`, or a clear error naming the resource that needs it. */
export function providerOf(kind: string, fqn: string): RawHandler {
  const handler = handlers.get(kind);
  if (!handler) {
    throw new ResourceError(
      `No provider for kind "${kind}" is loaded, so "${fqn}" cannot be deleted. Import the module that defines ${kind} in your program (even if nothing uses it any more) and run again.`,
      fqn,
      "delete",
    );
  }
  return handler;
}
