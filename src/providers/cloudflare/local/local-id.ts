/**
 * Ids of local resources. Locally there is no control plane to hand out
 * uuids, so a D1 database's, KV namespace's or queue's id is derived from its
 * name: the same name gives the same id in every run, and so the same data.
 *
 * @module
 */
import { createHash } from "node:crypto";

const SAFE = /^[A-Za-z0-9_-]+$/;
const MAX_READABLE = 120;

/**
 * The local id of the resource named `name`: `local-<name>` when the name is
 * made of letters, digits, `-` and `_` (and not too long), else a readable
 * prefix and a hash, so that ids are safe as file names and never collide.
 *
 * @example
 * localId("my-app-db-alice"); // "local-my-app-db-alice"
 * localId("My notes / 2024"); // "local-My_notes___2024-3f1c9a0b2d4e6f81"
 */
export function localId(name: string): string {
  if (SAFE.test(name) && name.length <= MAX_READABLE) return `local-${name}`;
  const readable = name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, MAX_READABLE);
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 16);
  return `local-${readable}-${hash}`;
}
