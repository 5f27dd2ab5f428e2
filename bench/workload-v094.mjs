// One benchmark phase against Alchemy 0.94 (npm alias "alchemy-v094").
// See workload-shared.mjs for configuration and output.
// Run with ALCHEMY_TELEMETRY_DISABLED=1 (run.mjs sets it; checked below).
// BENCH_WL_STORE: "fs" (default: 0.94's default FileSystemStateStore) or
// "sqlite" (0.94's SQLiteStateStore on <dir>/state.sqlite, see v094-sqlite-store.mjs).
if (!process.env.ALCHEMY_TELEMETRY_DISABLED) {
  throw new Error("ALCHEMY_TELEMETRY_DISABLED=1 is required for the Alchemy 0.94 workload");
}
const { default: alchemy, Resource } = await import("alchemy-v094");
const { runWorkload } = await import("./workload-shared.mjs");
const store = process.env.BENCH_WL_STORE ?? "fs";
const options = {};
const extra = { store };
if (store === "sqlite") {
  const { v094SQLiteStateStore, V094_SQLITE_DRIVER, V094_SQLITE_SYNC } = await import("./v094-sqlite-store.mjs");
  options.stateStore = await v094SQLiteStateStore(`${process.env.BENCH_WL_DIR}/state.sqlite`);
  Object.assign(extra, { driver: V094_SQLITE_DRIVER, synchronous: V094_SQLITE_DRIVER === "libsql" ? "libsql default" : V094_SQLITE_SYNC });
} else if (store !== "fs") {
  throw new Error(`Alchemy 0.94 workload: store must be fs or sqlite, got ${store}`);
}
await runWorkload({ engine: "v094", alchemy, Resource, options, extra });
