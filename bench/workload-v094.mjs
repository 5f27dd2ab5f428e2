// One benchmark phase against Alchemy 0.94 (npm alias "alchemy-v094").
// See workload-shared.mjs for configuration and output.
// Run with ALCHEMY_TELEMETRY_DISABLED=1 (run.mjs sets it; checked below).
if (!process.env.ALCHEMY_TELEMETRY_DISABLED) {
  throw new Error("ALCHEMY_TELEMETRY_DISABLED=1 is required for the Alchemy 0.94 workload");
}
const { default: alchemy, Resource } = await import("alchemy-v094");
const { runWorkload } = await import("./workload-shared.mjs");
await runWorkload({ engine: "v094", alchemy, Resource });
