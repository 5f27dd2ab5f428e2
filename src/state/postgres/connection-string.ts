/**
 * The PostgreSQL connection string of a state store: where it comes from, how
 * it is shown in messages (never with its password), and the schema name it
 * is paired with.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";

/** The environment variable read when no `connectionString` option is given. */
export const DATABASE_URL_VARIABLE = "ALCHEMY_STATE_DATABASE_URL";

/** The PostgreSQL schema that holds the state tables unless told otherwise. */
export const DEFAULT_SCHEMA = "alchemy";

/** A schema name we can always quote safely: at most 63 bytes, no case or quoting surprises. */
const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Where a store's records live, as resolved from its options and the environment. */
export interface DatabaseTarget {
  /** The connection string as given, password included: only ever handed to `pg`. */
  readonly connectionString: string;
  /** The PostgreSQL schema that holds the state tables. */
  readonly schema: string;
  /** `postgres://host:port/db`, without user or password: safe to print. */
  readonly server: string;
  /** The password in the connection string, if any, so that messages can be scrubbed of it. */
  readonly password: string | undefined;
}

/**
 * Resolves the connection string (option, else `ALCHEMY_STATE_DATABASE_URL`)
 * and the schema: the `schema` option, else the connection string's
 * `?schema=` parameter (as in a `--state` store URL), else `alchemy`. The
 * `schema` parameter is taken out of the connection string handed to `pg`.
 *
 * @throws StateStoreError when neither gives a connection string, when it is
 * not a valid `postgres://` (or `postgresql://`) URL, when the `schema` option
 * and the `?schema=` parameter name different schemas, or when the schema is
 * not a plain identifier.
 * @example
 * resolveTarget({ connectionString: "postgres://u:pw@db:5432/state" }, process.env);
 * // { server: "postgres://db:5432/state", schema: "alchemy", ... }
 * resolveTarget({ connectionString: "postgres://u:pw@db:5432/state?schema=reports" }, process.env);
 * // { server: "postgres://db:5432/state", schema: "reports", connectionString: "postgres://u:pw@db:5432/state", ... }
 */
export function resolveTarget(
  options: { connectionString?: string; schema?: string },
  env: NodeJS.ProcessEnv,
): DatabaseTarget {
  const given = options.connectionString ?? env[DATABASE_URL_VARIABLE];
  if (given === undefined || given.trim() === "") {
    throw new StateStoreError(
      `PostgresStateStore needs a database: pass { connectionString: "postgres://user:password@host:5432/db" } ` +
        `or set ${DATABASE_URL_VARIABLE}.`,
      "connectionString",
    );
  }
  const { connectionString, schema: named } = splitSchema(given);
  if (options.schema !== undefined && named !== undefined && options.schema !== named) {
    const source = options.connectionString !== undefined ? "the connectionString option" : DATABASE_URL_VARIABLE;
    throw new StateStoreError(
      `PostgresStateStore was given two schemas: ${source} (${redactConnectionString(given)}) names schema ${JSON.stringify(named)} ` +
        `with ?schema=, and the schema option says ${JSON.stringify(options.schema)}. Give the schema once: ` +
        `drop ?schema=${named} from the connection string, or drop the schema option.`,
      "schema",
    );
  }
  const schema = options.schema ?? named ?? DEFAULT_SCHEMA;
  if (!SCHEMA_PATTERN.test(schema)) {
    throw new StateStoreError(
      `Invalid schema ${JSON.stringify(schema)} for PostgresStateStore: use letters, digits and "_", ` +
        `not starting with a digit, at most 63 characters, e.g. "alchemy_state".`,
      "schema",
    );
  }
  return { connectionString, schema, ...parseConnectionString(connectionString) };
}

/**
 * The schema a connection string names with `?schema=` (the form store URLs
 * use), and the connection string without that parameter, as the driver
 * takes it. A connection string without it is returned unchanged.
 *
 * @throws StateStoreError when `connectionString` is not a valid
 * `postgres://` URL, or names different schemas in several `schema` parameters.
 * @example
 * splitSchema("postgres://me@db/state?schema=reports&sslmode=require");
 * // { connectionString: "postgres://me@db/state?sslmode=require", schema: "reports" }
 */
export function splitSchema(connectionString: string): { connectionString: string; schema?: string } {
  const url = postgresUrl(connectionString);
  const named = [...new Set(url.searchParams.getAll("schema"))];
  if (named.length === 0) return { connectionString };
  if (named.length > 1) {
    throw new StateStoreError(
      `The PostgreSQL connection string ${redactConnectionString(connectionString)} names several schemas ` +
        `(${named.map((name) => JSON.stringify(name)).join(", ")}): give one ?schema= parameter.`,
      "schema",
    );
  }
  url.searchParams.delete("schema");
  return { connectionString: url.href, schema: named[0] };
}

/**
 * `text` with the password of any connection string in it replaced by `***`.
 *
 * @example
 * redactConnectionString("postgres://me:hunter2@db/state"); // "postgres://me:***@db/state"
 */
export function redactConnectionString(text: string): string {
  return text
    .replace(/(\/\/[^/@\s:]*:)[^@\s]*@/g, "$1***@")
    .replace(/(password=)[^&\s]*/gi, "$1***");
}

/**
 * `message` with every occurrence of `password` replaced by `***`, for text
 * that comes from the driver or the server.
 *
 * @example
 * scrubPassword("failed with hunter2", "hunter2"); // "failed with ***"
 */
export function scrubPassword(message: string, password: string | undefined): string {
  const redacted = redactConnectionString(message);
  return password ? redacted.split(password).join("***") : redacted;
}

/**
 * Quotes a PostgreSQL identifier.
 *
 * @example
 * quoteIdent("alchemy"); // '"alchemy"'
 */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function parseConnectionString(connectionString: string): { server: string; password: string | undefined } {
  const url = postgresUrl(connectionString);
  const host = url.hostname || url.searchParams.get("host") || "localhost";
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || decodeURIComponent(url.username) || "postgres";
  const password = url.password === "" ? url.searchParams.get("password") ?? undefined : decodeURIComponent(url.password);
  return { server: `postgres://${host}${url.port ? `:${url.port}` : ""}/${database}`, password };
}

/** `connectionString` as a URL; a StateStoreError (password redacted) when it is not a `postgres://` one. */
function postgresUrl(connectionString: string): URL {
  let url: URL | undefined;
  try {
    url = /^postgres(ql)?:\/\//i.test(connectionString) ? new URL(connectionString) : undefined;
  } catch {
    // No cause: the URL error carries the input, password included.
  }
  if (url === undefined) {
    throw new StateStoreError(
      `The PostgreSQL connection string ${redactConnectionString(connectionString)} is not a valid postgres:// URL. ` +
        `Write it as postgres://user:password@host:5432/database (percent-encode special characters in the password; ` +
        `for a Unix socket, postgres://user@/database?host=/var/run/postgresql).`,
      "connectionString",
    );
  }
  return url;
}
