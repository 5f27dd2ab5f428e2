// Seed 001's multi-service application (Example 1), deployable as a pull-request
// preview (Example 2): three nested scopes, each with its own Workers and storage.
//
//   npx alchemy dev                 # everything on Miniflare, served on loopback ports
//   PR_NUMBER=123 npx alchemy deploy --local   # the preview's stage, pr-123
import alchemy from "alchemy";
import { D1Database, KVNamespace, Queue, R2Bucket, Worker } from "alchemy/cloudflare";

const prNumber = process.env.PR_NUMBER;
const app = await alchemy("cloudflare-example", {
  ...(prNumber ? { stage: `pr-${prNumber}` } : {}),
  profile: prNumber ? "ci" : "default",
  destroyStrategy: prNumber ? "parallel" : "sequential",
  // Seals the secret binding below in state. A preview takes it from CI's secrets;
  // on your machine a fixed one will do (the secret is a local stand-in too).
  password: process.env.ALCHEMY_PASSWORD ?? (prNumber ? undefined : "local-development-only"),
});

// Background jobs: a queue and the Worker that consumes it.
const { jobQueue, results } = await alchemy.run("jobs", async () => {
  const jobQueue = await Queue("job-queue");
  const results = await KVNamespace("job-results");
  await Worker("job-worker", {
    script: "./src/jobs/index.ts",
    bindings: { RESULTS: results },
    eventSources: [{ queue: jobQueue, settings: { batchSize: 1, maxWaitTimeSeconds: 1 } }],
  });
  return { jobQueue, results };
});

// API backend: a database with migrations, a cache, and the queue's producer side.
await alchemy.run("api", async () => {
  const db = await D1Database("api-db", { migrationsDir: "./migrations" });
  const cache = await KVNamespace("api-cache");
  const api = await Worker("api-worker", {
    script: "./src/api/index.ts",
    bindings: {
      DB: db,
      CACHE: cache,
      JOBS: jobQueue,
      RESULTS: results,
      GREETING: "hello",
      LIMITS: { pageSize: 20 },
      TOKEN: alchemy.secret(process.env.API_TOKEN ?? "local-token"),
    },
  });
  console.log(`api: ${api.url}`);
});

// Frontend: a site Worker serving files from an R2 bucket.
await alchemy.run("frontend", async () => {
  const assets = await R2Bucket("site-assets", { empty: true });
  const site = await Worker("site-worker", { script: "./src/frontend/index.ts", bindings: { ASSETS: assets } });
  console.log(`site: ${site.url}`);
});

await app.finalize();
