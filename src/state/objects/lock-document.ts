/**
 * The text of a stage's lock object (`~lock.json`): the lock, or a free
 * stage that keeps its fencing token.
 *
 * ```json
 * { "id": "6f1c...", "token": 7, "holder": { "user": "alice", "host": "build-7", "pid": 4242, "command": "alchemy deploy" },
 *   "acquiredAt": "2025-01-01T10:00:00.000Z", "heartbeatAt": "2025-01-01T10:00:20.000Z", "leaseMs": 30000 }
 * { "id": null, "token": 7 }
 * ```
 *
 * Releasing writes the second form instead of deleting the object, so the
 * token keeps growing with every acquisition (unless someone deletes the
 * object by hand: then it starts again at 1).
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import type { LockHolder, LockInfo } from "../stage-lock.js";

/** What a lock object holds: the last token handed out, and the lock if the stage is locked. */
export interface LockDocument {
  token: number;
  info?: LockInfo;
}

/**
 * The text of a lock object.
 *
 * @example
 * lockText({ token: 3 }); // '{"id":null,"token":3}'
 */
export function lockText(document: LockDocument): string {
  const { token, info } = document;
  if (info === undefined) return JSON.stringify({ id: null, token });
  return JSON.stringify({
    id: info.id,
    token: info.token,
    holder: info.holder,
    acquiredAt: info.acquiredAt.toISOString(),
    heartbeatAt: info.heartbeatAt.toISOString(),
    leaseMs: info.leaseMs,
  });
}

/** Where a lock object is, for messages: its location and the command that deletes it by hand. */
export interface LockPlace {
  location: string;
  deleteCommand: string;
}

/**
 * Parses the text of the lock object at `place` of stage `stagePath`.
 *
 * @throws StateStoreError naming the object when it is not a lock object; nothing is changed.
 */
export function parseLock(text: string, place: LockPlace, stagePath: string): LockDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw damaged(place, stagePath, `is not valid JSON (${(error as Error).message})`, error);
  }
  const v = (typeof value === "object" && value !== null && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  if (typeof v.token !== "number" || !Number.isSafeInteger(v.token) || v.token < 0) throw damaged(place, stagePath, "has no whole-number token");
  if (v.id === null) return { token: v.token };
  const holder = v.holder as Partial<LockHolder> | undefined;
  const acquiredAt = new Date(typeof v.acquiredAt === "string" ? v.acquiredAt : NaN);
  const heartbeatAt = new Date(typeof v.heartbeatAt === "string" ? v.heartbeatAt : NaN);
  const valid =
    typeof v.id === "string" && v.id !== "" &&
    typeof holder === "object" && holder !== null &&
    typeof holder.user === "string" && typeof holder.host === "string" && typeof holder.pid === "number" && typeof holder.command === "string" &&
    !Number.isNaN(acquiredAt.getTime()) && !Number.isNaN(heartbeatAt.getTime()) &&
    typeof v.leaseMs === "number" && v.leaseMs > 0;
  if (!valid) throw damaged(place, stagePath, "is not a lock: it needs id, token, holder {user, host, pid, command}, acquiredAt, heartbeatAt and leaseMs");
  const info: LockInfo = {
    id: v.id as string,
    token: v.token,
    holder: { user: holder!.user!, host: holder!.host!, pid: holder!.pid!, command: holder!.command! },
    acquiredAt,
    heartbeatAt,
    leaseMs: v.leaseMs as number,
  };
  return { token: v.token, info };
}

function damaged(place: LockPlace, stagePath: string, what: string, cause?: unknown): StateStoreError {
  const [app, stage] = stagePath.split("/");
  return new StateStoreError(
    `The lock object ${place.location} of stage "${stage}" (${app}/${stage}) ${what}. Nothing was changed. ` +
      `If no run is deploying the stage, delete the object (${place.deleteCommand}) and run again.`,
    place.location,
    cause === undefined ? undefined : { cause },
  );
}
