/**
 * Child process of the DynamoDB store's paused-holder test: a program
 * deploying application "app", stage "dev", with its state in the store of
 * STORE_URL (a `dynamodb://` URL), declaring three slow resources one after
 * the other. Each handler call prints `call <phase> <id>` on stdout when it
 * starts; the end of the run prints `done`, or `failed <error name>: <message>`
 * with exit code 1.
 *
 * Run: node --import <repo>/node_modules/tsx/dist/loader.mjs --conditions source dynamodb-engine-run.test-fixture.ts
 * with STORE_URL, ROOT_DIR, LEASE_MS, SLOW_MS and AWS credentials in the environment.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import alchemy, { Resource, type Context } from "../../index.js";
import { parseStoreUrl, storeFactory } from "../store-url.js";

/** The resources the program declares, in order. */
export const ENGINE_RUN_IDS = ["one", "two", "three"] as const;

interface SlowProps {
  slowMs: number;
}

const Slow = Resource("test::DynamoDBSlow", async function (this: Context<{ id: string }, SlowProps>, id: string, props: SlowProps) {
  if (this.phase === "delete") return this.destroy();
  process.stdout.write(`call ${this.phase} ${id}\n`);
  await new Promise((resolve) => setTimeout(resolve, props.slowMs));
  return { id };
});

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const app = await alchemy("app", {
    stage: "dev",
    rootDir: env.ROOT_DIR,
    quiet: true,
    lockLeaseMs: Number(env.LEASE_MS),
    stateStore: storeFactory(parseStoreUrl(env.STORE_URL!, process.cwd())),
  });
  try {
    for (const id of ENGINE_RUN_IDS) await Slow(id, { slowMs: Number(env.SLOW_MS) });
    await app.finalize();
  } finally {
    await app.release();
  }
  process.stdout.write("done\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.env).then(
    () => process.exit(0),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      process.stdout.write(`failed ${e.name}: ${e.message}\n`);
      process.exit(1);
    },
  );
}
