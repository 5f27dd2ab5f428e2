/**
 * The per-process backend of PostgreSQL state stores that share a connection
 * string and schema: one `pg.Pool`, the schema migrated once, one write
 * batcher per stage, so that writes from every store of a stage are
 * group-committed, and the fences of the stages this process has locked.
 *
 * @module
 */
import type pg from "pg";
import { loadDriver } from "../optional-driver.js";
import { LockLostError } from "../stage-lock.js";
import { databaseError, isRetryable } from "./database-errors.js";
import type { DatabaseTarget } from "./connection-string.js";
import { recordQueries, writeParams, type RecordQueries, type RecordWrite } from "./record-queries.js";
import { ReadBatcher } from "./read-batcher.js";
import { withClient } from "./checked-out-client.js";
import { migrateSchema } from "./schema-migrations.js";
import { StageLockTable } from "./stage-lock-table.js";
import { stageMetaQueries, type StageMetaQueries, type StageMetaWrite } from "./stage-meta-queries.js";
import { historyQueries, type HistoryQueries } from "./history-queries.js";
import { WriteBatcher } from "./write-batcher.js";

/** Connections one process opens to one database at most. */
const POOL_SIZE = 10;
/** Attempts of a write batch that lost a deadlock to another process. */
const WRITE_ATTEMPTS = 5;

type QueuedWrite = (RecordWrite | StageMetaWrite) & { location: string };

function isStageMetaWrite(write: RecordWrite | StageMetaWrite): write is StageMetaWrite {
  return (write as Partial<StageMetaWrite>).kind === "stageMeta";
}

/** Batcher key of a stage's metadata: `~` never starts a record id, so it cannot clash with a record's key. */
const META_KEY = "\u0000~stage-meta";

/**
 * A pool, its migrated schema, its write batchers and stage fences. Made and
 * shared by `database-registry.ts`; stores reach it through `acquireDatabase`.
 *
 * Each stage (`app/stage`, the first two segments of a scope) has its own
 * batcher, so that a batch never mixes stages and a lost lock fails only the
 * writes of its stage. While a stage is fenced ({@link fence}), each of its
 * batches commits in a transaction that first reads the stage's lock row
 * `FOR SHARE` and writes only if the lock is still ours (else every write of
 * the batch rejects with {@link LockLostError}); the row lock keeps a
 * takeover from committing until the batch has. Batches of unfenced stages
 * are one statement each, unchecked.
 *
 * A stage's metadata is written through the same batcher: a batch holding a
 * metadata change commits it with the batch's records in one transaction,
 * fenced (or not) like them.
 *
 * @example
 * const db = new StateDatabase(target);
 * await db.write({ scope: "app/dev", id: "api", body: "{...}" }, location);
 * const body = await db.readBody("app/dev", "api", location);
 */
export class StateDatabase {
  /** Where the records live. */
  readonly target: DatabaseTarget;
  /** The statements over this schema's records table. */
  readonly sql: RecordQueries;
  /** The statements over this schema's stage_meta table. */
  readonly metaSql: StageMetaQueries;
  /** The statements over this schema's stage_history table. */
  readonly historySql: HistoryQueries;
  /** `postgres://host/db#schema.records`: the records table, for messages. */
  readonly table: string;
  /** The stage locks of this schema. */
  readonly locks: StageLockTable;
  readonly #pool: pg.Pool;
  /** Write batchers by stage path. */
  readonly #writes = new Map<string, WriteBatcher<QueuedWrite>>();
  /** Lock ids by the path of each stage this process has locked. */
  readonly #fences = new Map<string, { lockId: string; leaseMs: number }>();
  readonly #reads: ReadBatcher<string>;
  #migrated: Promise<void> | undefined;

  constructor(target: DatabaseTarget) {
    this.target = target;
    this.sql = recordQueries(target.schema);
    this.metaSql = stageMetaQueries(target.schema);
    this.historySql = historyQueries(target.schema);
    this.table = `${target.server}#${target.schema}.records`;
    this.#pool = new (loadDriver("pg", "The PostgreSQL state store").Pool)({
      connectionString: target.connectionString,
      max: POOL_SIZE,
      connectionTimeoutMillis: 30_000,
      // A store the program forgot to deinit must not keep the process alive.
      allowExitOnIdle: true,
      fallback_application_name: "alchemy-state",
    });
    // An idle connection that drops is removed by the pool; the next query reports the problem.
    this.#pool.on("error", () => undefined);
    this.locks = new StageLockTable(this.#pool, target, () => this.ready());
    this.#reads = new ReadBatcher(async (scope, ids) => {
      const rows = (await this.#pool.query<{ id: string; body: string }>(this.sql.getMany, [scope, ids])).rows;
      return new Map(rows.map((row) => [row.id, row.body]));
    });
  }

  /** Connects and brings the schema up to date, once; a failed attempt is retried by the next call. */
  ready(): Promise<void> {
    this.#migrated ??= migrateSchema(this.#pool, this.target).then(
      () => undefined,
      (error: unknown) => {
        this.#migrated = undefined;
        throw databaseError(error, this.target, `prepare the state schema "${this.target.schema}"`, `${this.target.server}#${this.target.schema}`);
      },
    );
    return this.#migrated;
  }

  /**
   * Queues a change for the next group commit; resolves once it is committed.
   * `location` names the record in the error of a failed batch.
   */
  write(change: RecordWrite, location: string): Promise<void> {
    const batcher = this.#batcherOf(stageOf(change.scope));
    return batcher.submit(`${change.scope}\u0000${change.id}`, { ...change, location }, change.body?.length ?? 0);
  }

  /**
   * Queues a change of the metadata of stage `app/stage` (`body` `null`
   * removes it) for the stage's next group commit; resolves once committed.
   * Fenced like a record write of the stage. `location` names the row in the
   * error of a failed batch.
   */
  writeStageMeta(app: string, stage: string, body: string | null, location: string): Promise<void> {
    const stagePath = `${app}/${stage}`;
    return this.#batcherOf(stagePath).submit(`${stagePath}${META_KEY}`, { kind: "stageMeta", app, stage, body, location }, body?.length ?? 0);
  }

  /** The metadata text of stage `app/stage`, or `undefined`; like {@link query}, it sees every write this process submitted before. */
  async readStageMeta(app: string, stage: string, location: string): Promise<string | undefined> {
    const rows = await this.query<{ body: string }>(this.metaSql.read, [app, stage], `read the metadata of stage "${stage}"`, location);
    return rows[0]?.body;
  }

  /**
   * Writes (or, with `entry` `null`, removes) history entries of stage
   * `app/stage`, after every write this process submitted before has
   * settled, in one transaction fenced like a batch of the stage's records.
   */
  async writeHistory(app: string, stage: string, change: { run: string; entry: string; snapshot: Uint8Array } | { remove: string[] }, location: string): Promise<void> {
    await this.ready();
    await this.settled();
    const stagePath = `${app}/${stage}`;
    const fence = this.#fences.get(stagePath);
    try {
      await this.#inFencedTransaction(stagePath, fence, async (client) => {
        if ("remove" in change) await client.query(this.historySql.remove, [app, stage, change.remove]);
        else await client.query(this.historySql.write, [app, stage, change.run, change.entry, Buffer.from(change.snapshot)]);
      });
    } catch (error) {
      if (error instanceof LockLostError) throw error;
      throw databaseError(error, this.target, `${"remove" in change ? "remove entries of" : "write an entry of"} the history of stage "${stage}"`, location);
    }
  }

  #batcherOf(stagePath: string): WriteBatcher<QueuedWrite> {
    let batcher = this.#writes.get(stagePath);
    if (batcher === undefined) {
      batcher = new WriteBatcher<QueuedWrite>({
        commit: (batch) => this.#commit(stagePath, batch),
        failure: (error, write) => {
          if (error instanceof LockLostError) return error;
          const what = isStageMetaWrite(write)
            ? `${write.body === null ? "delete" : "write"} the metadata of stage "${write.stage}"`
            : `write record "${write.id}"`;
          return databaseError(error, this.target, what, write.location);
        },
      });
      this.#writes.set(stagePath, batcher);
    }
    return batcher;
  }

  /**
   * From now on, commits writes to stage `stagePath` (`app/stage`, any scope
   * of it) only while its lock is `lockId`. Replaces an earlier fence of the stage.
   */
  fence(stagePath: string, lockId: string, leaseMs: number): void {
    this.#fences.set(stagePath, { lockId, leaseMs });
  }

  /** Lifts the fence of `stagePath` if it is `lockId`'s (a later lock's fence stays). */
  unfence(stagePath: string, lockId: string): void {
    if (this.#fences.get(stagePath)?.lockId === lockId) this.#fences.delete(stagePath);
  }

  /**
   * Runs a read once the schema is ready and every write this process has
   * submitted so far has settled, so that a read sees the writes before it.
   */
  async query<Row extends pg.QueryResultRow>(sql: string, params: unknown[], what: string, location: string): Promise<Row[]> {
    await this.ready();
    await this.settled();
    try {
      return (await this.#pool.query<Row>(sql, params)).rows;
    } catch (error) {
      throw databaseError(error, this.target, what, location);
    }
  }

  /**
   * The JSON text of record `id` of `scope`, or `undefined`. Reads of one
   * scope made together are answered by one query; like {@link query}, it
   * sees every write this process submitted before.
   */
  async readBody(scope: string, id: string, location: string): Promise<string | undefined> {
    await this.ready();
    await this.settled();
    try {
      return await this.#reads.read(scope, id);
    } catch (error) {
      throw databaseError(error, this.target, `read record "${id}"`, location);
    }
  }

  /** Resolves once every write submitted so far has been committed or has failed. */
  async settled(): Promise<void> {
    await Promise.all([...this.#writes.values()].map((batcher) => batcher.settled()));
  }

  /** Waits for the writes in flight, then closes every connection. */
  async close(): Promise<void> {
    await this.settled();
    await this.#pool.end();
  }

  async #commit(stagePath: string, batch: (RecordWrite | StageMetaWrite)[]): Promise<void> {
    await this.ready();
    const records = batch.filter((write): write is RecordWrite => !isStageMetaWrite(write));
    const meta = batch.find(isStageMetaWrite); // the batcher keeps one per batch: the last
    const params = records.length > 0 ? writeParams(records) : undefined;
    for (let attempt = 1; ; attempt++) {
      // Read at each attempt: a lock taken while this batch waited fences it too.
      const fence = this.#fences.get(stagePath);
      try {
        if (fence === undefined && meta === undefined) await this.#pool.query(this.sql.write, params);
        else await this.#commitInTransaction(stagePath, fence, params, meta);
        return;
      } catch (error) {
        // The statement is atomic and idempotent: after a deadlock it can simply run again.
        if (!isRetryable(error) || attempt === WRITE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, attempt * 20 * Math.random()));
      }
    }
  }

  /**
   * One transaction: when fenced, the stage's lock row `FOR SHARE` and
   * nothing more unless the lock is `fence.lockId`; then the records
   * (`params`) and the stage's metadata (`meta`), whichever the batch holds.
   */
  async #commitInTransaction(stagePath: string, fence: { lockId: string; leaseMs: number } | undefined, params: unknown[] | undefined, meta: StageMetaWrite | undefined): Promise<void> {
    await this.#inFencedTransaction(stagePath, fence, async (client) => {
      if (params !== undefined) await client.query(this.sql.write, params);
      if (meta?.body === null) await client.query(this.metaSql.remove, [meta.app, meta.stage]);
      else if (meta !== undefined) await client.query(this.metaSql.write, [meta.app, meta.stage, meta.body]);
    });
  }

  /**
   * Runs `body` in one transaction of stage `stagePath` (`app/stage`): when
   * fenced, first the stage's lock row `FOR SHARE`, and nothing more unless
   * the lock is `fence.lockId`.
   *
   * A holder paused in the middle of it (SIGSTOP, a suspended machine) would
   * keep the lock row locked, and so block the run that takes the stage over
   * once the lease runs out, for as long as it stays paused. The server ends
   * such a session once it has been idle in the transaction for the lease
   * (`idle_in_transaction_session_timeout`), which rolls the transaction back
   * and frees the row.
   */
  async #inFencedTransaction(stagePath: string, fence: { lockId: string; leaseMs: number } | undefined, body: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const [app, stage] = stagePath.split("/") as [string, string];
    await withClient(this.#pool, async (client, connection) => {
      try {
        await client.query(fence === undefined ? "BEGIN" : `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1, Math.ceil(fence.leaseMs))}`);
        if (fence !== undefined) {
          const current = await this.locks.holding(client, app, stage);
          if (current?.id !== fence.lockId) throw new LockLostError(stagePath, fence.lockId, current);
        }
        await body(client);
        await client.query("COMMIT");
      } catch (error) {
        // A connection that cannot even roll back is dropped, not handed to the next query.
        await client.query("ROLLBACK").catch(connection.markBroken);
        if (fence !== undefined && (sessionTimedOut(error) || sessionTimedOut(connection.error))) {
          throw new LockLostError(stagePath, fence.lockId, undefined, SESSION_ENDED);
        }
        throw error;
      }
    });
  }
}

/** Why a fenced write counts its lock as lost when the server ended its session mid-transaction. */
const SESSION_ENDED =
  "the database ended this run's session, which had been in a write transaction for longer than the lock's lease " +
  "(was the process paused?), so another run may have taken the stage over";

/** The server ended the session for sitting idle in a transaction (idle_in_transaction_session_timeout). */
function sessionTimedOut(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === "25P03";
}

/** `app/stage` of a scope path `app/stage/...`. */
function stageOf(scope: string): string {
  const [app, stage] = scope.split("/", 2);
  return `${app}/${stage}`;
}
