// One benchmark phase against this repository's engine (package "alchemy",
// resolved by self-reference: src/*.ts with `--conditions=source` under tsx, or
// dist/*.js with plain node after `npm run build`).
// See workload-shared.mjs for configuration and output; the store comes from
// BENCH_WL_STORE (stores-ours.mjs), stage locking from BENCH_WL_LOCKING
// ("on": stateLocking true, "off": stateLocking false).
const { default: alchemy, Resource } = await import("alchemy");
const { runWorkload, APP, STAGE } = await import("./workload-shared.mjs");
const { oursStore, oursFactory, storeCanLock } = await import("./stores-ours.mjs");

const locking = process.env.BENCH_WL_LOCKING ?? "on";
if (locking !== "on" && locking !== "off") throw new Error(`BENCH_WL_LOCKING must be on or off, got ${locking}`);
const { store, factory } = await oursStore();
const options = { stateLocking: locking === "on" };
if (factory) options.stateStore = factory;
// Reported in the result line: does this store lock the stage at all?
const canLock = storeCanLock((await oursFactory()).factory, [APP, STAGE]);
await runWorkload({ engine: "ours", alchemy, Resource, options, extra: { store, locking, canLock } });
