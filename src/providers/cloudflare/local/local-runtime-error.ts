/**
 * The one error class of the local Cloudflare runtime (Miniflare).
 *
 * @module
 */
import { AlchemyError } from "../../../core/errors.js";

/** What went wrong, for programs that react to one case. */
export type LocalRuntimeErrorCode =
  /** A Worker asked for a port another process (or another Worker) holds. */
  | "port-in-use"
  /** workerd refused the configuration: a Worker's code does not load, a binding is wrong. */
  | "runtime-failed"
  /** Miniflare is not installed, or is not the version the provider was built for. */
  | "miniflare-missing"
  /** A second Worker consumes a queue that already has one. */
  | "queue-consumer-conflict"
  /** A Worker name is reserved by the runtime itself. */
  | "reserved-name"
  /** An R2 bucket still holds objects and was not deleted with `empty: true`. */
  | "bucket-not-empty"
  /** A statement or call on a D1 database, KV namespace, R2 bucket or queue failed. */
  | "operation-failed"
  /** The runtime was disposed (the run ended) before the call. */
  | "disposed";

/**
 * Thrown by the local backend. The message names the Worker or resource and
 * says how to fix the problem; `subject` names it for programs.
 *
 * @example
 * // Worker "my-app-api-worker-alice" cannot listen on 127.0.0.1:8787: the port is in use. ...
 * if (error instanceof LocalRuntimeError && error.code === "port-in-use") console.error(error.subject);
 */
export class LocalRuntimeError extends AlchemyError {
  override name = "LocalRuntimeError";
  constructor(
    message: string,
    readonly code: LocalRuntimeErrorCode,
    /** What the error is about, e.g. `Worker "my-app-api"` or `R2 bucket "uploads"`. */
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
