/**
 * The three persistent stores as store URLs, for tests that run the command
 * line against each: the filesystem and SQLite stores relative to the
 * project directory, PostgreSQL in a schema of its own.
 *
 * @module
 */
import { createTestSchema } from "./postgres/postgres.test-fixture.js";

/**
 * `[name, url()]` of each persistent store, for `it.each`. The PostgreSQL
 * store's `url()` reserves a fresh schema and pushes its removal on `cleanups`.
 *
 * @example
 * it.each(persistentStoreUrls("alchemy_paused", cleanups))("... on %s", async (_name, url) => {
 *   const env = { ALCHEMY_STATE_STORE: await url() };
 * });
 */
export function persistentStoreUrls(schemaPrefix: string, cleanups: Array<() => unknown>): Array<[string, () => Promise<string>]> {
  return [
    ["the filesystem store", async () => "file:.alchemy"],
    ["the SQLite store", async () => "sqlite:state.sqlite"],
    [
      "the PostgreSQL store",
      async () => {
        const db = await createTestSchema(schemaPrefix);
        cleanups.push(() => db.drop());
        return `${db.connectionString}?schema=${db.schema}`;
      },
    ],
  ];
}
