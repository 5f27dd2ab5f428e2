/**
 * The per-process backend of PostgreSQL state stores that share a connection
 * string and schema: one `pg.Pool`, the schema migrated once, and one write
 * batcher, so that writes from every store of the process are group-committed.
 *
 * @module
 */
import pg from "pg";
import { databaseError, isRetryable } from "./database-errors.js";
import type { DatabaseTarget } from "./connection-string.js";
import { recordQueries, writeParams, type RecordQueries, type RecordWrite } from "./record-queries.js";
import { ReadBatcher } from "./read-batcher.js";
import { migrateSchema } from "./schema-migrations.js";
import { WriteBatcher } from "./write-batcher.js";

/** Connections one process opens to one database at most. */
const POOL_SIZE = 10;
/** Attempts of a write batch that lost a deadlock to another process. */
const WRITE_ATTEMPTS = 5;

/**
 * A pool, its migrated schema and its write batcher. Made and shared by
 * `database-registry.ts`; stores reach it through `acquireDatabase`.
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
  /** `postgres://host/db#schema.records`: the records table, for messages. */
  readonly table: string;
  readonly #pool: pg.Pool;
  readonly #writes: WriteBatcher<RecordWrite & { location: string }>;
  readonly #reads: ReadBatcher<string>;
  #migrated: Promise<void> | undefined;

  constructor(target: DatabaseTarget) {
    this.target = target;
    this.sql = recordQueries(target.schema);
    this.table = `${target.server}#${target.schema}.records`;
    this.#pool = new pg.Pool({
      connectionString: target.connectionString,
      max: POOL_SIZE,
      connectionTimeoutMillis: 30_000,
      // A store the program forgot to deinit must not keep the process alive.
      allowExitOnIdle: true,
      fallback_application_name: "alchemy-state",
    });
    // An idle connection that drops is removed by the pool; the next query reports the problem.
    this.#pool.on("error", () => undefined);
    this.#writes = new WriteBatcher({
      commit: (batch) => this.#commit(batch),
      failure: (error, write) => databaseError(error, target, `write record "${write.id}"`, write.location),
    });
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
    return this.#writes.submit(`${change.scope}\u0000${change.id}`, { ...change, location }, change.body?.length ?? 0);
  }

  /**
   * Runs a read once the schema is ready and every write this process has
   * submitted so far has settled, so that a read sees the writes before it.
   */
  async query<Row extends pg.QueryResultRow>(sql: string, params: unknown[], what: string, location: string): Promise<Row[]> {
    await this.ready();
    await this.#writes.settled();
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
    await this.#writes.settled();
    try {
      return await this.#reads.read(scope, id);
    } catch (error) {
      throw databaseError(error, this.target, `read record "${id}"`, location);
    }
  }

  /** Resolves once every write submitted so far has been committed or has failed. */
  settled(): Promise<void> {
    return this.#writes.settled();
  }

  /** Waits for the writes in flight, then closes every connection. */
  async close(): Promise<void> {
    await this.#writes.settled();
    await this.#pool.end();
  }

  async #commit(batch: RecordWrite[]): Promise<void> {
    await this.ready();
    const params = writeParams(batch);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#pool.query(this.sql.write, params);
        return;
      } catch (error) {
        // The statement is atomic and idempotent: after a deadlock it can simply run again.
        if (!isRetryable(error) || attempt === WRITE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, attempt * 20 * Math.random()));
      }
    }
  }
}
