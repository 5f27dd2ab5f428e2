/**
 * Store URLs: how the command line (and `state migrate`) names a state store.
 *
 * | URL | store |
 * |---|---|
 * | `file:.alchemy` (or a plain directory path) | {@link FileSystemStateStore} in that directory |
 * | `sqlite:.alchemy/state.sqlite` | `SQLiteStateStore` on that file (needs better-sqlite3) |
 * | `postgres://user@host/db` (or `postgresql://`) | `PostgresStateStore` (needs pg); `?schema=name` picks the schema |
 * | `r2://bucket/prefix` | `R2RestStateStore` (Cloudflare REST API; token from the profile's cloudflare section or CLOUDFLARE_API_TOKEN) |
 *
 * Relative paths resolve against `cwd`. The SQL stores load their drivers
 * only when they open a database, so the drivers stay optional.
 *
 * @module
 */
import path from "node:path";
import { AlchemyError } from "../core/errors.js";
import { FileSystemStateStore } from "./fs/fs-state-store.js";
import { redactConnectionString, splitSchema } from "./postgres/connection-string.js";
import { PostgresStateStore } from "./postgres/postgres-state-store.js";
import { R2RestStateStore } from "./r2-rest/r2-rest-state-store.js";
import { SQLiteStateStore } from "./sqlite/sqlite-state-store.js";
import type { StateStoreFactory } from "./state-store.js";

/** What a store URL names. */
export type StoreLocation =
  | { kind: "file"; dir: string }
  | { kind: "sqlite"; filename: string }
  | { kind: "postgres"; connectionString: string; schema?: string }
  | { kind: "r2"; bucket: string; prefix: string; profile?: string };

/**
 * Parses a store URL; throws an {@link AlchemyError} saying which forms exist,
 * or a `StateStoreError` for a `postgres://` URL that is malformed or names
 * several schemas.
 *
 * @param profile the credential profile an `r2://` store reads its token
 *   from (a command's `--profile`); without it, the run's profile, else `$ALCHEMY_PROFILE`.
 */
export function parseStoreUrl(url: string, cwd: string, profile?: string): StoreLocation {
  if (/^postgres(ql)?:\/\//.test(url)) {
    // The same reading of ?schema= as a PostgresStateStore's connectionString gets.
    const { connectionString, schema } = splitSchema(url);
    return { kind: "postgres", connectionString, schema };
  }
  if (url.startsWith("sqlite:")) {
    const file = url.slice("sqlite:".length);
    if (!file) throw new AlchemyError(`Store URL "${url}" names no file: write sqlite:<path>, e.g. sqlite:.alchemy/state.sqlite.`);
    return { kind: "sqlite", filename: path.resolve(cwd, file) };
  }
  if (url.startsWith("r2://")) {
    const [bucket = "", ...prefix] = url.slice("r2://".length).split("/");
    if (!bucket) throw new AlchemyError(`Store URL "${url}" names no bucket: write r2://<bucket>/<prefix>, e.g. r2://my-state/alchemy.`);
    return { kind: "r2", bucket, prefix: prefix.filter(Boolean).join("/"), ...(profile !== undefined && { profile }) };
  }
  if (url.startsWith("file:")) return { kind: "file", dir: path.resolve(cwd, url.slice("file:".length) || ".alchemy") };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new AlchemyError(`Unknown state store URL "${redactConnectionString(url)}": use file:<dir>, sqlite:<file>, postgres://user@host/db or r2://bucket/prefix.`);
  }
  return { kind: "file", dir: path.resolve(cwd, url) };
}

/** The factory of the store `location` names. */
export function storeFactory(location: StoreLocation): StateStoreFactory {
  switch (location.kind) {
    case "file":
      return (scope) => new FileSystemStateStore(scope, { dir: location.dir });
    case "sqlite":
      return (scope) => new SQLiteStateStore(scope, { filename: location.filename });
    case "postgres":
      return (scope) => new PostgresStateStore(scope, { connectionString: location.connectionString, schema: location.schema });
    case "r2":
      return (scope) => new R2RestStateStore(scope, { bucket: location.bucket, prefix: location.prefix, profile: location.profile });
  }
}

/** How a location is shown to users (no password). */
export function describeLocation(location: StoreLocation): string {
  switch (location.kind) {
    case "file":
      return location.dir;
    case "sqlite":
      return `sqlite:${location.filename}`;
    case "postgres":
      return redactConnectionString(location.connectionString) + (location.schema ? ` (schema ${location.schema})` : "");
    case "r2":
      return `r2://${location.bucket}/${location.prefix}`;
  }
}
