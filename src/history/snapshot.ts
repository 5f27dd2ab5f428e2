/**
 * The snapshot kept with each history entry: the stage's manifest after the
 * run (every fqn -> the hash of its record and the run whose entry keeps that
 * record version) and the record versions no earlier entry keeps. Two gzip
 * members behind a small header, so that reading the manifest does not
 * unpack the versions.
 *
 * Versions are keyed by content (a hash of the record's canonical JSON), not
 * by `seq`: a record deleted and created again, or imported, may repeat a
 * seq with other content, and a version seen once is kept once.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { StateStoreError } from "../core/errors.js";
import type { StageMeta, State } from "../state/state-store.js";

/** fqn -> [hash of the record, run whose entry keeps that version]. */
export type Manifest = Map<string, { hash: string; holder: string }>;

/** A decoded snapshot. */
export interface Snapshot {
  manifest: Manifest;
  /** The stage's metadata after the run (the key check its sealed secrets need), when it had some. */
  meta?: StageMeta;
  /** Record versions this entry keeps, by `fqn` then hash (read lazily: see {@link readVersions}). */
  versionBytes: Uint8Array;
}

const MAGIC = Buffer.from("AH1\n");

/**
 * The hash of a record as stored: of its JSON with keys sorted, so that a
 * store that reorders keys (PostgreSQL's jsonb) hashes the same record alike.
 * 66 bits of SHA-256, base64url.
 */
export function recordHash(state: State): string {
  return createHash("sha256").update(canonicalJson(state)).digest("base64url").slice(0, 11);
}

/** One record version: the record as stored, its fqn and its {@link recordHash}. */
export interface RecordVersion {
  fqn: string;
  hash: string;
  state: State;
}

/** Encodes a manifest and the versions this entry keeps. */
export function encodeSnapshot(manifest: Manifest, versions: Iterable<RecordVersion>, meta?: StageMeta): Uint8Array {
  const holders: string[] = [];
  const holderIndex = new Map<string, number>();
  const rows: [string, string, number][] = [];
  for (const fqn of [...manifest.keys()].sort()) {
    const { hash, holder } = manifest.get(fqn)!;
    let index = holderIndex.get(holder);
    if (index === undefined) holderIndex.set(holder, (index = holders.push(holder) - 1));
    rows.push([fqn, hash, index]);
  }
  const head = gzipSync(JSON.stringify({ holders, rows, ...(meta === undefined ? {} : { meta }) }));
  const body = gzipSync(JSON.stringify([...versions].map(({ fqn, hash, state }) => [fqn, hash, state])));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(head.length);
  return new Uint8Array(Buffer.concat([MAGIC, length, head, body]));
}

/**
 * Decodes the manifest of a snapshot; the versions stay packed.
 *
 * @throws StateStoreError naming `location` when the bytes are not a snapshot.
 */
export function decodeSnapshot(bytes: Uint8Array, location: string): Snapshot {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (!buffer.subarray(0, 4).equals(MAGIC)) throw new Error("it does not start with the snapshot header");
    const headLength = buffer.readUInt32BE(4);
    const head = JSON.parse(gunzipSync(buffer.subarray(8, 8 + headLength)).toString("utf8")) as { holders: string[]; rows: [string, string, number][]; meta?: StageMeta };
    const manifest: Manifest = new Map();
    for (const [fqn, hash, index] of head.rows) manifest.set(fqn, { hash, holder: head.holders[index]! });
    return { manifest, versionBytes: buffer.subarray(8 + headLength), ...(head.meta === undefined ? {} : { meta: head.meta }) };
  } catch (error) {
    throw new StateStoreError(
      `The history snapshot ${location} cannot be read (${(error as Error).message}). The stage's records are not affected; ` +
        `remove the entry from the history, or restore the store from a backup.`,
      location,
      { cause: error },
    );
  }
}

/** The record versions a snapshot keeps, by {@link versionKey}. */
export function readVersions(snapshot: Snapshot, location: string): Map<string, RecordVersion> {
  try {
    const rows = JSON.parse(gunzipSync(snapshot.versionBytes).toString("utf8")) as [string, string, State][];
    return new Map(rows.map(([fqn, hash, state]) => [versionKey(fqn, hash), { fqn, hash, state }]));
  } catch (error) {
    throw new StateStoreError(`The record versions of the history snapshot ${location} cannot be read (${(error as Error).message}).`, location, { cause: error });
  }
}

/** The key {@link readVersions} files a version under. */
export function versionKey(fqn: string, hash: string): string {
  return `${fqn}#${hash}`;
}

/** JSON text with every object's keys sorted (what `JSON.stringify` would give for JSON values otherwise). */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === "function" ? "null" : canonicalJson(v))).join(",")}]`;
  const object = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(object).sort()) {
    const v = object[key];
    if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(",")}}`;
}
