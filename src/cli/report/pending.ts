/**
 * The operations of a run that started and have not finished yet, followed
 * from its events: what a run that ends unfinished leaves pending.
 *
 * @module
 */
import type { RunEvent } from "../../core/events.js";
import type { PendingOperation } from "./outcome.js";

/**
 * @example
 * const pending = new PendingOperations();
 * launch.onEvent = (event) => pending.observe(event);
 * pending.list(); // [{ fqn: "shop/dev/db", kind: "test::Db", action: "create" }]
 */
export class PendingOperations {
  private readonly started = new Map<string, PendingOperation>();

  observe(event: RunEvent): void {
    if (event.status === "start") this.started.set(event.fqn, { fqn: event.fqn, kind: event.kind, action: event.action });
    else if (event.status === "done" || event.status === "failed") this.started.delete(event.fqn);
  }

  /** Started and not finished, in the order they started. */
  list(): PendingOperation[] {
    return [...this.started.values()];
  }
}
