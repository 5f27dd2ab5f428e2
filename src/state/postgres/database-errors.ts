/**
 * Turning what the `pg` driver or the server throws into a
 * {@link StateStoreError} that names the database (never its password) and
 * says how to fix the problem.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { DATABASE_URL_VARIABLE, scrubPassword, type DatabaseTarget } from "./connection-string.js";

/** Socket errors and SQLSTATEs that mean the server could not be reached or would not let us in. */
const UNREACHABLE = new Set([
  "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EPIPE",
  "57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now
  "53300", // too many connections
]);
const REFUSED_LOGIN = new Set(["28000", "28P01"]);
const NO_DATABASE = "3D000";
const NO_PRIVILEGE = "42501";

/** SQLSTATEs after which the same statement may simply be run again: deadlock, serialization failure. */
const RETRYABLE = new Set(["40P01", "40001"]);

/**
 * Whether `error` is a conflict with another transaction that running the
 * same statement again resolves.
 *
 * @example
 * if (isRetryable(error) && attempt < 5) continue;
 */
export function isRetryable(error: unknown): boolean {
  return RETRYABLE.has(codeOf(error) ?? "");
}

/**
 * A {@link StateStoreError} for `error`, thrown while doing `what` (e.g.
 * `read record "api"`) at `location`.
 *
 * @example
 * throw databaseError(error, target, "read record \"api\"", location);
 */
export function databaseError(error: unknown, target: DatabaseTarget, what: string, location: string): StateStoreError {
  if (error instanceof StateStoreError) return error;
  const code = codeOf(error);
  const detail = scrubPassword(error instanceof Error ? error.message : String(error), target.password);
  const reason = detail + (code && !detail.includes(code) ? ` [${code}]` : "");
  const message = (() => {
    if (code === undefined ? isConnectionLoss(detail) : UNREACHABLE.has(code)) {
      return (
        `Cannot ${what}: PostgreSQL at ${target.server} is unreachable (${reason}). Check that the server is ` +
        `running and that the connectionString option or ${DATABASE_URL_VARIABLE} points at it.`
      );
    }
    if (REFUSED_LOGIN.has(code ?? "")) {
      return (
        `Cannot ${what}: PostgreSQL at ${target.server} refused the login (${reason}). ` +
        `Check the user and password in the connectionString option or ${DATABASE_URL_VARIABLE}.`
      );
    }
    if (code === NO_DATABASE) {
      return `Cannot ${what}: ${reason} at ${target.server}. Create the database first, or fix its name in the connection string.`;
    }
    if (code === NO_PRIVILEGE) {
      return (
        `Cannot ${what} in schema "${target.schema}" at ${target.server}: ${reason}. Grant the database user the ` +
        `privileges on that schema (or CREATE on the database, so that the schema is made on first use).`
      );
    }
    return `Cannot ${what} at ${target.server} (schema "${target.schema}"): ${reason}. Nothing was changed by this call.`;
  })();
  return new StateStoreError(message, location, { cause: error });
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** pg reports a connection dropped or never made with plain messages and no code. */
function isConnectionLoss(message: string): boolean {
  return /Connection terminated|timeout exceeded when trying to connect|connect ETIMEDOUT|Client has encountered a connection error/i.test(message);
}
