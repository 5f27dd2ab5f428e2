/**
 * The `stage_locks` table of a state database: one row per stage ever locked,
 * read and changed in short transactions on the process's shared connection.
 *
 * - Taking: one IMMEDIATE transaction reads the row and, if the stage is free
 *   (no row, or `id` NULL) or its lock is stale ({@link isLockStale}: lease
 *   run out, or a holder on this host whose pid is gone), writes a new id and
 *   `token + 1`. SQLite's write lock makes the read and the write one step, so
 *   of any number of contenders (connections or processes) exactly one wins.
 * - Heartbeat and release are single `UPDATE`s conditioned on the id, so they
 *   never touch a lock that is no longer ours.
 * - Releasing sets `id` (and the holder) to NULL but keeps the row, so the
 *   fencing token keeps growing across acquisitions.
 *
 * better-sqlite3 is synchronous: every method runs its transaction to the end
 * before returning, and none is ever held across an `await`.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type { Database, Statement } from "better-sqlite3";
import { isLockStale, type LockHolder, type LockInfo, type LockRequest } from "../stage-lock.js";
import { databaseError } from "./database-errors.js";
import { STAGE_LOCKS_TABLE } from "./schema.js";

/** A row of `stage_locks` as SQLite returns it. */
interface LockRow {
  id: string | null;
  token: number;
  holder: string | null;
  acquired_at: number | null;
  heartbeat_at: number | null;
  lease_ms: number | null;
}

/** What one attempt to take a stage's lock found. */
export type LockAttempt =
  /** The lock is ours; `tookOverFrom` is the stale lock it replaced. */
  | { taken: LockInfo; tookOverFrom?: LockInfo }
  /** Someone else holds a live lock. */
  | { heldBy: LockInfo };

/**
 * The stage locks of one open state database. Made by `StateDatabase`, which
 * also reads it inside its write transactions to fence writes.
 *
 * @example
 * const table = new StageLockTable(db, "/abs/state.sqlite");
 * const attempt = table.tryTake("my-app", "prod", { holder, leaseMs: 30_000 });
 * if ("taken" in attempt) table.clear("my-app", "prod", attempt.taken.id);
 */
export class StageLockTable {
  /** Where the locks live, for messages: `<absolute file>#stage_locks`. */
  readonly location: string;
  readonly #select: Statement<[string, string], LockRow>;
  readonly #renew: Statement<[number, string, string, string]>;
  readonly #clear: Statement<[string, string, string]>;
  readonly #take: (app: string, stage: string, request: Omit<LockRequest, "timeoutMs">, now: number) => LockAttempt;

  /** Prepares the statements; `db` must already have the `stage_locks` table (schema version 2). */
  constructor(db: Database, filename: string) {
    this.location = `${filename}#${STAGE_LOCKS_TABLE}`;
    this.#select = db.prepare<[string, string], LockRow>(
      `SELECT id, token, holder, acquired_at, heartbeat_at, lease_ms FROM ${STAGE_LOCKS_TABLE} WHERE app = ? AND stage = ?`,
    );
    const upsert = db.prepare<[string, string, string, number, string, number, number, number]>(
      `INSERT INTO ${STAGE_LOCKS_TABLE} (app, stage, id, token, holder, acquired_at, heartbeat_at, lease_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (app, stage) DO UPDATE SET id = excluded.id, token = excluded.token, holder = excluded.holder,
         acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at, lease_ms = excluded.lease_ms`,
    );
    this.#renew = db.prepare(`UPDATE ${STAGE_LOCKS_TABLE} SET heartbeat_at = ? WHERE app = ? AND stage = ? AND id = ?`);
    this.#clear = db.prepare(
      `UPDATE ${STAGE_LOCKS_TABLE} SET id = NULL, holder = NULL, acquired_at = NULL, heartbeat_at = NULL, lease_ms = NULL
       WHERE app = ? AND stage = ? AND id = ?`,
    );
    this.#take = db.transaction((app: string, stage: string, request: Omit<LockRequest, "timeoutMs">, now: number): LockAttempt => {
      const row = this.#select.get(app, stage);
      const current = row === undefined ? undefined : this.#info(row);
      if (current !== undefined && !isLockStale(current, now)) return { heldBy: current };
      const taken: LockInfo = {
        id: randomUUID(),
        token: (row?.token ?? 0) + 1,
        holder: request.holder,
        acquiredAt: new Date(now),
        heartbeatAt: new Date(now),
        leaseMs: request.leaseMs,
      };
      upsert.run(app, stage, taken.id, taken.token, JSON.stringify(taken.holder), now, now, taken.leaseMs);
      return current === undefined ? { taken } : { taken, tookOverFrom: current };
    }).immediate;
  }

  /**
   * The stage's current lock (stale or not), or `undefined` when it is free.
   * Inside a transaction it reads that transaction's view.
   */
  read(app: string, stage: string): LockInfo | undefined {
    const row = this.#run("read the stage lock", () => this.#select.get(app, stage));
    return row === undefined ? undefined : this.#info(row);
  }

  /** Takes the stage's lock if it is free or stale, in one IMMEDIATE transaction; otherwise says who holds it. */
  tryTake(app: string, stage: string, request: Omit<LockRequest, "timeoutMs">, now = Date.now()): LockAttempt {
    return this.#run("take the stage lock", () => this.#take(app, stage, request, now));
  }

  /** Records a heartbeat of lock `id`; false when the stage's lock is no longer `id`. */
  renew(app: string, stage: string, id: string, now = Date.now()): boolean {
    return this.#run("renew the stage lock", () => this.#renew.run(now, app, stage, id).changes === 1);
  }

  /** Frees the stage if its lock is `id` (keeping the row and its token); false when it was not. */
  clear(app: string, stage: string, id: string): boolean {
    return this.#run("release the stage lock", () => this.#clear.run(app, stage, id).changes === 1);
  }

  #run<T>(doing: string, query: () => T): T {
    try {
      return query();
    } catch (error) {
      throw databaseError(this.location, `Cannot ${doing}`, error);
    }
  }

  #info(row: LockRow): LockInfo | undefined {
    if (row.id === null) return undefined;
    const acquiredAt = new Date(row.acquired_at ?? 0);
    return {
      id: row.id,
      token: row.token,
      holder: parseHolder(row.holder, this.location),
      acquiredAt,
      heartbeatAt: new Date(row.heartbeat_at ?? acquiredAt.getTime()),
      leaseMs: row.lease_ms ?? 0,
    };
  }
}

/** The holder column's JSON; a row written by something else reads as an unknown holder, never as a crash. */
function parseHolder(text: string | null, location: string): LockHolder {
  try {
    const holder = JSON.parse(text ?? "") as LockHolder;
    if (typeof holder?.host === "string" && typeof holder.pid === "number") return holder;
  } catch {
    // Fall through.
  }
  return { user: "?", host: "?", pid: 0, command: `unreadable holder in ${location}` };
}
