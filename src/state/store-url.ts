/**
 * Store URLs: how the command line (and `state migrate`) names a state store.
 *
 * | URL | store |
 * |---|---|
 * | `file:.alchemy` (or a plain directory path) | {@link FileSystemStateStore} in that directory |
 * | `sqlite:.alchemy/state.sqlite` | `SQLiteStateStore` on that file (needs better-sqlite3) |
 * | `postgres://user@host/db` (or `postgresql://`) | `PostgresStateStore` (needs pg); `?schema=name` picks the schema |
 * | `s3://bucket/prefix?region=...&endpoint=...&forcePathStyle=true` | `S3StateStore` (needs @aws-sdk/client-s3) |
 * | `dynamodb://table?region=...&endpoint=...&createTable=true` | `DynamoDBStateStore` (needs @aws-sdk/client-dynamodb; credentials from the profile's aws section, else the AWS SDK's default chain) |
 * | `r2://bucket/prefix` | R2: through its S3 API (`R2StateStore`) when an R2 access key is at hand (profile cloudflare.r2AccessKeyId, R2_ACCESS_KEY_ID), else its REST API (`R2RestStateStore`, token from the profile's cloudflare section or CLOUDFLARE_API_TOKEN); `?api=s3` or `?api=rest` chooses |
 *
 * Relative paths resolve against `cwd`. The SQL stores load their drivers
 * only when they open a database, so the drivers stay optional.
 *
 * @module
 */
import path from "node:path";
import { AlchemyError } from "../core/errors.js";
import { describeDynamoDBLocation, parseDynamoDBUrl, type DynamoDBLocation } from "./dynamodb/dynamodb-store-url.js";
import { DynamoDBStateStore } from "./dynamodb/dynamodb-state-store.js";
import { FileSystemStateStore } from "./fs/fs-state-store.js";
import { redactConnectionString, splitSchema } from "./postgres/connection-string.js";
import { PostgresStateStore } from "./postgres/postgres-state-store.js";
import { R2RestStateStore } from "./r2-rest/r2-rest-state-store.js";
import { hasR2AccessKey, R2StateStore } from "./s3/r2-state-store.js";
import { S3StateStore } from "./s3/s3-state-store.js";
import { SQLiteStateStore } from "./sqlite/sqlite-state-store.js";
import type { StateStoreFactory } from "./state-store.js";

/** What a store URL names. */
export type StoreLocation =
  | { kind: "file"; dir: string }
  | { kind: "sqlite"; filename: string }
  | { kind: "postgres"; connectionString: string; schema?: string }
  | { kind: "r2"; bucket: string; prefix: string; profile?: string; api?: "s3" | "rest"; accountId?: string; endpoint?: string }
  | { kind: "s3"; bucket: string; prefix: string; profile?: string; region?: string; endpoint?: string; forcePathStyle?: boolean }
  | DynamoDBLocation;

/**
 * Parses a store URL; throws an {@link AlchemyError} saying which forms exist,
 * or a `StateStoreError` for a `postgres://` URL that is malformed or names
 * several schemas.
 *
 * @param profile the credential profile an `r2://` store reads its token
 *   from, and an `s3://` or `dynamodb://` store its aws section (a command's
 *   `--profile`); without it, the run's profile, else `$ALCHEMY_PROFILE`.
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
  if (url.startsWith("r2://") || url.startsWith("s3://")) return bucketLocation(url, profile);
  if (url.startsWith("dynamodb://")) return parseDynamoDBUrl(url, profile);
  if (url.startsWith("file:")) return { kind: "file", dir: path.resolve(cwd, url.slice("file:".length) || ".alchemy") };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new AlchemyError(`Unknown state store URL "${redactConnectionString(url)}": use file:<dir>, sqlite:<file>, postgres://user@host/db, s3://bucket/prefix, r2://bucket/prefix or dynamodb://table.`);
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
    case "s3": {
      const { bucket, prefix, profile, region, endpoint, forcePathStyle } = location;
      return (scope) => new S3StateStore(scope, { bucket, prefix, profile, region, endpoint, forcePathStyle });
    }
    case "r2": {
      const { bucket, prefix, api, accountId, endpoint } = location;
      return (scope) => {
        const profile = location.profile ?? scope.profile ?? process.env.ALCHEMY_PROFILE ?? "default";
        const viaS3 = api === "s3" || (api === undefined && hasR2AccessKey(profile));
        return viaS3 ? new R2StateStore(scope, { bucket, prefix, profile, accountId, endpoint }) : new R2RestStateStore(scope, { bucket, prefix, profile, accountId });
      };
    }
    case "dynamodb": {
      const { table, region, endpoint, createTable, profile } = location;
      return (scope) => new DynamoDBStateStore(scope, { table, region, endpoint, createTable, profile });
    }
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
    case "s3":
      return `${location.kind}://${location.bucket}/${location.prefix}`;
    case "dynamodb":
      return describeDynamoDBLocation(location);
  }
}

const BUCKET_PARAMS = { s3: ["region", "endpoint", "forcePathStyle"], r2: ["api", "accountId", "endpoint"] } as const;

/** `s3://bucket/prefix?...` or `r2://bucket/prefix?...`. */
function bucketLocation(url: string, profile: string | undefined): StoreLocation {
  const kind = url.startsWith("s3://") ? "s3" : "r2";
  const [path = "", query = ""] = url.slice(`${kind}://`.length).split("?");
  const [bucket = "", ...prefix] = path.split("/");
  if (!bucket) throw new AlchemyError(`Store URL "${url}" names no bucket: write ${kind}://<bucket>/<prefix>, e.g. ${kind}://my-state/alchemy.`);
  const params = new URLSearchParams(query);
  const allowed: readonly string[] = BUCKET_PARAMS[kind];
  const unknown = [...params.keys()].filter((name) => !allowed.includes(name));
  if (unknown.length > 0) throw new AlchemyError(`Store URL "${url}" has ${unknown.map((n) => `"${n}"`).join(", ")}, which ${kind}:// does not take: it takes ${allowed.join(", ")}.`);
  const param = (name: string) => params.get(name) || undefined;
  const base = { bucket, prefix: prefix.filter(Boolean).join("/"), ...(profile !== undefined && { profile }), ...(param("endpoint") && { endpoint: param("endpoint") }) };
  if (kind === "s3") {
    const forcePathStyle = param("forcePathStyle");
    if (forcePathStyle !== undefined && forcePathStyle !== "true" && forcePathStyle !== "false") throw new AlchemyError(`Store URL "${url}": forcePathStyle is true or false, not "${forcePathStyle}".`);
    return { kind, ...base, ...(param("region") && { region: param("region") }), ...(forcePathStyle !== undefined && { forcePathStyle: forcePathStyle === "true" }) };
  }
  const api = param("api");
  if (api !== undefined && api !== "s3" && api !== "rest") throw new AlchemyError(`Store URL "${url}": api is s3 (R2's S3 endpoint) or rest (Cloudflare's REST API), not "${api}".`);
  return { kind, ...base, ...(api && { api }), ...(param("accountId") && { accountId: param("accountId") }) };
}
