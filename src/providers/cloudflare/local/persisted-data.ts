/**
 * Where Miniflare keeps the data of a D1 database, KV namespace or R2 bucket
 * under its persist root, so that deleting the resource deletes its data.
 *
 * Measured on miniflare 4.20260426.0: each resource is a Durable Object of a
 * class `miniflare-<Class>` whose SQLite file is named by the object's id,
 * `idFromName(<id>)`, and whose large values are files in a `blobs` folder
 * named after the id:
 *
 * ```text
 * <root>/d1/miniflare-D1DatabaseObject/<hex>.sqlite{,-wal,-shm}
 * <root>/kv/miniflare-KVNamespaceObject/<hex>.sqlite{,-wal,-shm}   <root>/kv/<id>/blobs/
 * <root>/r2/miniflare-R2BucketObject/<hex>.sqlite{,-wal,-shm}      <root>/r2/<id>/blobs/
 * ```
 *
 * `<hex>` is workerd's `idFromName`, which Miniflare reproduces in Node
 * (`durableObjectNamespaceIdFromName`); it is reproduced here, and the tests
 * check it against the files Miniflare writes.
 *
 * @module
 */
import { createHash, createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** The kinds of local resources that keep data on disk. */
export type PersistedKind = "d1" | "kv" | "r2";

const OBJECT_CLASS: Record<PersistedKind, string> = {
  d1: "D1DatabaseObject",
  kv: "KVNamespaceObject",
  r2: "R2BucketObject",
};

/**
 * workerd's id of the Durable Object named `name` in the namespace whose
 * unique key is `uniqueKey`, as 64 hex digits.
 *
 * @example
 * durableObjectIdFromName("miniflare-D1DatabaseObject", "local-db"); // "84856c14..."
 */
export function durableObjectIdFromName(uniqueKey: string, name: string): string {
  const key = createHash("sha256").update(uniqueKey).digest();
  const nameHmac = createHmac("sha256", key).update(name).digest().subarray(0, 16);
  const hmac = createHmac("sha256", key).update(nameHmac).digest().subarray(0, 16);
  return Buffer.concat([nameHmac, hmac]).toString("hex");
}

/** Miniflare's `sanitisePath`: how an id becomes a folder name. */
export function sanitisePath(unsafe: string): string {
  return unsafe
    .replace(/(^|\/|\\)(\.+)(\/|\\|$)/g, (_, a: string, dots: string, b: string) => `${a}${"_".repeat(dots.length)}${b}`)
    .replace(/(^|\/|\\)(\.+)(\/|\\|$)/g, (_, a: string, dots: string, b: string) => `${a}${"_".repeat(dots.length)}${b}`)
    .replace(/[?<>*"'^/\\:|\x00-\x1f\x80-\x9f]/g, "_")
    .replace(/^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i, "_")
    .replace(/^[ /\\]+/, (match) => "_".repeat(match.length))
    .replace(/[ /\\]+$/, (match) => "_".repeat(match.length))
    .substring(0, 255);
}

/**
 * Every file and folder holding the data of resource `id` of `kind` under
 * `persistRoot` (whether or not it exists yet).
 *
 * @example
 * persistedPaths(".alchemy/~local", "kv", "local-sessions");
 * // [".../kv/miniflare-KVNamespaceObject/<hex>.sqlite", "...-wal", "...-shm", ".../kv/local-sessions"]
 */
export function persistedPaths(persistRoot: string, kind: PersistedKind, id: string): string[] {
  const className = OBJECT_CLASS[kind];
  const objectFile = path.join(persistRoot, kind, `miniflare-${className}`, durableObjectIdFromName(`miniflare-${className}`, id));
  const blobFolder = sanitisePath(id);
  // Never the folder of the object class itself (which holds every resource of
  // the kind), even on a case-insensitive disk.
  const folders = new Set([blobFolder, encodeURIComponent(blobFolder)].filter((folder) => folder !== "" && !folder.toLowerCase().startsWith("miniflare-")));
  return [`${objectFile}.sqlite`, `${objectFile}.sqlite-wal`, `${objectFile}.sqlite-shm`, ...[...folders].map((folder) => path.join(persistRoot, kind, folder))];
}

/** Whether anything of resource `id` is on disk. */
export function hasPersistedData(persistRoot: string, kind: PersistedKind, id: string): boolean {
  return persistedPaths(persistRoot, kind, id).some((file) => fs.existsSync(file));
}

/** Removes the data of resource `id`; what is already gone is fine. Miniflare must not hold the files open. */
export async function removePersistedData(persistRoot: string, kind: PersistedKind, id: string): Promise<void> {
  await Promise.all(persistedPaths(persistRoot, kind, id).map((file) => fs.promises.rm(file, { recursive: true, force: true })));
}
