// The state store our engine uses in a bench process, from the environment:
//   BENCH_WL_STORE      "fs" (default: the engine's default FileSystemStateStore
//                       under <dir>/.alchemy), "sqlite", "postgres", "s3" or "dynamodb"
//   BENCH_WL_DIR        the run's temp dir (the SQLite file is <dir>/state.sqlite)
//   BENCH_WL_PG_URL     PostgreSQL connection string (store "postgres")
//   BENCH_WL_PG_SCHEMA  PostgreSQL schema of this run (store "postgres")
//   BENCH_WL_S3_ENDPOINT, BENCH_WL_S3_PREFIX  the S3 emulator and this run's prefix (store "s3", bucket "bench")
//   BENCH_WL_DYNAMODB_ENDPOINT, BENCH_WL_DYNAMODB_TABLE  the DynamoDB emulator and this run's table (store "dynamodb")
//   BENCH_WL_FS_RECYCLE "off": the fs store without recycling replaced files (bench/recycling.mjs)
// Loaded under the same loader as the engine (tsx + --conditions=source, or dist/).

export const SQLITE_FILE = "state.sqlite";

/**
 * @returns {Promise<{ store: string, factory: ((scope: { chain: readonly string[] }) => any) | undefined, describe: string }>}
 * `factory` is undefined for "fs": the engine's default store is used, as in the bench without a store dimension.
 */
export async function oursStore(env = process.env) {
  const store = env.BENCH_WL_STORE ?? "fs";
  const dir = env.BENCH_WL_DIR;
  if (!dir) throw new Error("BENCH_WL_DIR is required");
  switch (store) {
    case "fs":
      if (env.BENCH_WL_FS_RECYCLE === "off") {
        const { FileSystemStateStore } = await import("alchemy/state");
        const stateDir = `${dir}/.alchemy`;
        return { store, factory: (scope) => new FileSystemStateStore(scope, { dir: stateDir, recycleReplacedFiles: false }), describe: "FileSystemStateStore, recycleReplacedFiles: false" };
      }
      return { store, factory: undefined, describe: "FileSystemStateStore (default)" };
    case "sqlite": {
      const { SQLiteStateStore } = await import("alchemy/state/sqlite");
      const filename = `${dir}/${SQLITE_FILE}`;
      return { store, factory: (scope) => new SQLiteStateStore(scope, { filename }), describe: `SQLiteStateStore ${filename}` };
    }
    case "postgres": {
      const { PostgresStateStore } = await import("alchemy/state/postgres");
      const connectionString = env.BENCH_WL_PG_URL;
      const schema = env.BENCH_WL_PG_SCHEMA;
      if (!connectionString || !schema) throw new Error("BENCH_WL_PG_URL and BENCH_WL_PG_SCHEMA are required for store postgres");
      return {
        store,
        factory: (scope) => new PostgresStateStore(scope, { connectionString, schema }),
        describe: `PostgresStateStore schema ${schema}`,
      };
    }
    case "s3": {
      const { S3StateStore } = await import("alchemy/state/s3");
      const endpoint = env.BENCH_WL_S3_ENDPOINT;
      const prefix = env.BENCH_WL_S3_PREFIX;
      if (!endpoint || !prefix) throw new Error("BENCH_WL_S3_ENDPOINT and BENCH_WL_S3_PREFIX are required for store s3");
      const options = { bucket: "bench", prefix, endpoint, forcePathStyle: true, region: "us-east-1", credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } };
      return { store, factory: (scope) => new S3StateStore(scope, options), describe: `S3StateStore s3://bench/${prefix} at ${endpoint}` };
    }
    case "dynamodb": {
      const { DynamoDBStateStore } = await import("alchemy/state/dynamodb");
      const endpoint = env.BENCH_WL_DYNAMODB_ENDPOINT;
      const table = env.BENCH_WL_DYNAMODB_TABLE;
      if (!endpoint || !table) throw new Error("BENCH_WL_DYNAMODB_ENDPOINT and BENCH_WL_DYNAMODB_TABLE are required for store dynamodb");
      // Any credentials do for dynalite; fixed ones keep the SDK from looking for a profile.
      const options = { table, endpoint, region: "us-east-1", createTable: true, credentials: { accessKeyId: "BENCH", secretAccessKey: "BENCH" } };
      return { store, factory: (scope) => new DynamoDBStateStore(scope, options), describe: `DynamoDBStateStore dynamodb://${table} at ${endpoint}` };
    }
    default:
      throw new Error(`BENCH_WL_STORE must be fs, sqlite, postgres, s3 or dynamodb, got ${store}`);
  }
}

/** The factory to open the stage with outside the engine (the verifier): the fs store too. */
export async function oursFactory(env = process.env) {
  const s = await oursStore(env);
  if (s.factory) return s;
  const { FileSystemStateStore } = await import("alchemy/state");
  const dir = `${env.BENCH_WL_DIR}/.alchemy`;
  return { ...s, factory: (scope) => new FileSystemStateStore(scope, { dir }) };
}

/** Whether the store of the stage scope can lock stages (the StageLocking capability). */
export function storeCanLock(factory, chain) {
  const s = factory({ chain });
  return typeof s.lock === "function" && typeof s.lockInfo === "function" && typeof s.forceUnlock === "function";
}
