/**
 * The `<schema>.stage_locks` table of a PostgreSQL state database (schema
 * version 2): one row per stage ever locked, changed only by single
 * conditional statements, so that no transaction is held while a contender
 * waits and every step is atomic on the server.
 *
 * - Taking a free stage: one `INSERT ... ON CONFLICT DO UPDATE ... WHERE id IS
 *   NULL RETURNING`. The row lock of the upsert makes it atomic: of any number
 *   of contenders (connections, processes, machines) exactly one gets a row back.
 * - Taking over: the row is read back with the database's `now()`, judged by
 *   {@link isLockStale} against that clock (lease run out; or a holder on this
 *   host whose pid is gone), and replaced by an `UPDATE` conditioned on the
 *   same id and the same last heartbeat, so that only a lock that is still
 *   exactly the stale one is replaced, by one contender.
 * - Heartbeat, release and force-unlock are `UPDATE`s conditioned on the id.
 *   Releasing sets `id` (and the holder, times and lease) NULL but keeps the
 *   row, so `token`, the fencing token, grows with every acquisition.
 * - Fencing: a write transaction reads the row `FOR SHARE` ({@link holding}),
 *   which waits for a takeover in progress and blocks one from starting until
 *   the write commits.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { isLockStale, type LockHolder, type LockInfo, type LockRequest } from "../stage-lock.js";
import { quoteIdent, type DatabaseTarget } from "./connection-string.js";
import { databaseError } from "./database-errors.js";

/** A row of `stage_locks` as the queries below return it. */
interface LockRow {
  id: string | null;
  /** bigint: pg returns it as text. */
  token: string;
  holder: LockHolder | null;
  acquired_at: Date | null;
  heartbeat_at: Date | null;
  lease_ms: number | null;
  /** `heartbeat_at` in microseconds since the epoch (text), exact where a `Date` is not. */
  beat_us: string | null;
}

/** What one attempt to take a stage's lock found. */
export type LockAttempt =
  /** The lock is ours; `tookOverFrom` is the stale lock it replaced. */
  | { taken: LockInfo; tookOverFrom?: LockInfo }
  /** Someone else holds a live lock. */
  | { heldBy: LockInfo };

/** What the columns of a lock row are selected as. */
const COLUMNS =
  "id, token, holder, acquired_at, heartbeat_at, lease_ms, (extract(epoch FROM heartbeat_at) * 1000000)::bigint::text AS beat_us";

/**
 * The stage locks of one schema, over the process's shared pool. Made by
 * `StateDatabase`, which also calls {@link holding} inside its fenced write
 * transactions.
 *
 * @example
 * const attempt = await database.locks.tryTake("my-app", "prod", { holder, leaseMs: 30_000 });
 * if ("taken" in attempt) await database.locks.clear("my-app", "prod", attempt.taken.id);
 */
export class StageLockTable {
  /** Where the locks live, for messages: `postgres://host:port/db#schema.stage_locks` (never a password). */
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #target: DatabaseTarget;
  readonly #ready: () => Promise<void>;
  readonly #sql: ReturnType<typeof lockQueries>;

  /**
   * @param ready resolves once the schema is at version 2 or later; awaited before every statement
   */
  constructor(pool: pg.Pool, target: DatabaseTarget, ready: () => Promise<void>) {
    this.location = `${target.server}#${target.schema}.stage_locks`;
    this.#pool = pool;
    this.#target = target;
    this.#ready = ready;
    this.#sql = lockQueries(`${quoteIdent(target.schema)}.stage_locks`);
  }

  /**
   * Takes the lock of `app/stage` if it is free or stale; otherwise resolves
   * who holds it. Does not wait.
   */
  async tryTake(app: string, stage: string, request: Omit<LockRequest, "timeoutMs">): Promise<LockAttempt> {
    const mine = [randomUUID(), JSON.stringify(request.holder), request.leaseMs];
    return this.#run(`take the lock of stage "${stage}"`, async () => {
      for (;;) {
        const [taken] = await this.#rows(this.#sql.take, [app, stage, ...mine]);
        if (taken !== undefined) return { taken: toInfo(taken)! };
        const [row] = await this.#rows<LockRow & { now: Date }>(this.#sql.readWithClock, [app, stage]);
        const seen = row === undefined ? undefined : toInfo(row);
        if (seen === undefined) continue; // released between the two statements: try again
        if (!isLockStale(seen, row!.now.getTime())) return { heldBy: seen };
        const [replaced] = await this.#rows(this.#sql.takeOver, [app, stage, seen.id, row!.beat_us, ...mine]);
        if (replaced !== undefined) return { taken: toInfo(replaced)!, tookOverFrom: seen };
        // It heartbeated, was released or was taken over meanwhile: look again.
      }
    });
  }

  /** Renews the lease of lock `id`; false when it is no longer the stage's lock. */
  async renew(app: string, stage: string, id: string): Promise<boolean> {
    return this.#run(`renew the lock of stage "${stage}"`, async () => (await this.#rows(this.#sql.renew, [app, stage, id])).length === 1);
  }

  /** The stage's current lock, stale or not; `undefined` when it is free. */
  async read(app: string, stage: string): Promise<LockInfo | undefined> {
    return this.#run(`read the lock of stage "${stage}"`, async () => {
      const [row] = await this.#rows(this.#sql.read, [app, stage]);
      return row === undefined ? undefined : toInfo(row);
    });
  }

  /** Frees the stage if its lock is `id`; false when it was not (nothing changed). */
  async clear(app: string, stage: string, id: string): Promise<boolean> {
    return this.#run(`release the lock of stage "${stage}"`, async () => (await this.#rows(this.#sql.clear, [app, stage, id])).length === 1);
  }

  /**
   * Inside a transaction of `client`: the stage's current lock, read `FOR
   * SHARE` so that it cannot change until the transaction ends. Errors are
   * the driver's, for the caller to report with its write.
   */
  async holding(client: pg.PoolClient, app: string, stage: string): Promise<LockInfo | undefined> {
    const [row] = (await client.query<LockRow>(this.#sql.holding, [app, stage])).rows;
    return row === undefined ? undefined : toInfo(row);
  }

  async #rows<Row extends object = LockRow>(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.#pool.query<Row & pg.QueryResultRow>(sql, params)).rows;
  }

  async #run<T>(what: string, work: () => Promise<T>): Promise<T> {
    await this.#ready();
    try {
      return await work();
    } catch (error) {
      throw databaseError(error, this.#target, what, this.location);
    }
  }
}

/** The statements over `table`; the new lock's id, holder and lease are `$3..$5` of take and `$5..$7` of takeOver. */
function lockQueries(table: string) {
  const fresh = `token = l.token + 1, holder = excluded.holder, acquired_at = now(), heartbeat_at = now(), lease_ms = excluded.lease_ms`;
  return {
    take:
      `INSERT INTO ${table} AS l (app, stage, id, token, holder, acquired_at, heartbeat_at, lease_ms) ` +
      `VALUES ($1, $2, $3, 1, $4::jsonb, now(), now(), $5) ` +
      `ON CONFLICT (app, stage) DO UPDATE SET id = excluded.id, ${fresh} WHERE l.id IS NULL RETURNING ${COLUMNS}`,
    readWithClock: `SELECT ${COLUMNS}, now() AS now FROM ${table} WHERE app = $1 AND stage = $2`,
    takeOver:
      `UPDATE ${table} AS l SET id = $5, token = l.token + 1, holder = $6::jsonb, acquired_at = now(), heartbeat_at = now(), lease_ms = $7 ` +
      `WHERE app = $1 AND stage = $2 AND id = $3 AND (extract(epoch FROM heartbeat_at) * 1000000)::bigint = $4::bigint ` +
      `RETURNING ${COLUMNS}`,
    renew: `UPDATE ${table} SET heartbeat_at = now() WHERE app = $1 AND stage = $2 AND id = $3 RETURNING id`,
    read: `SELECT ${COLUMNS} FROM ${table} WHERE app = $1 AND stage = $2`,
    clear:
      `UPDATE ${table} SET id = NULL, holder = NULL, acquired_at = NULL, heartbeat_at = NULL, lease_ms = NULL ` +
      `WHERE app = $1 AND stage = $2 AND id = $3 RETURNING token`,
    holding: `SELECT ${COLUMNS} FROM ${table} WHERE app = $1 AND stage = $2 FOR SHARE`,
  };
}

/** The lock a row records; `undefined` for a free stage. */
function toInfo(row: LockRow): LockInfo | undefined {
  if (row.id === null) return undefined;
  return {
    id: row.id,
    token: Number(row.token),
    holder: row.holder!,
    acquiredAt: row.acquired_at!,
    heartbeatAt: row.heartbeat_at!,
    leaseMs: row.lease_ms!,
  };
}
