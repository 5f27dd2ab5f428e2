/**
 * A connection taken out of the pool for a transaction, and given back.
 *
 * While a client is out of the pool, the pool no longer listens for its errors:
 * a server that ends the session between two queries (the idle-in-transaction
 * timeout ending a holder that was paused, an administrator, a restart) makes
 * the client emit `error` with nobody listening, which would end the process.
 * Here that error is kept instead: the next query on the client fails with it,
 * and the client is dropped, not handed to the next user of the pool.
 *
 * @module
 */
import type pg from "pg";

/** What {@link withClient} tells its work about the connection. */
export interface Connection {
  /** The first error the connection reported (an `error` event, or one given to {@link markBroken}). */
  readonly error: Error | undefined;
  /** Counts the connection as broken: it is destroyed instead of going back to the pool. */
  markBroken(error: Error): void;
}

/**
 * Runs `work` on a client of `pool`, then gives the client back, or destroys it
 * when its connection broke (an `error` event, or a failure `work` reports
 * through `markBroken`).
 * @example
 * await withClient(pool, async (client, connection) => {
 *   await client.query("BEGIN");
 *   try { ...; await client.query("COMMIT"); }
 *   catch (error) { await client.query("ROLLBACK").catch(connection.markBroken); throw error; }
 * });
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient, connection: Connection) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const markBroken = (error: Error) => {
    broken ??= error;
  };
  client.on("error", markBroken);
  try {
    return await work(client, {
      get error() {
        return broken;
      },
      markBroken,
    });
  } finally {
    client.off("error", markBroken);
    client.release(broken);
  }
}
