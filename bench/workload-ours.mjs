// One benchmark phase against this repository's engine (package "alchemy",
// resolved by self-reference: src/*.ts with `--conditions=source` under tsx, or
// dist/*.js with plain node after `npm run build`).
// See workload-shared.mjs for configuration and output.
const { default: alchemy, Resource } = await import("alchemy");
const { runWorkload } = await import("./workload-shared.mjs");
await runWorkload({ engine: "ours", alchemy, Resource });
