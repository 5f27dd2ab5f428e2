/**
 * A short stress run on every store (see stress.test-fixture.ts; the long one
 * is `npm run stress`): deploys racing with readers, a second deploy, SIGKILL
 * and SIGSTOP/SIGCONT of the deployer, then every check a user relies on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { persistentStoreUrls } from "./store-urls.test-fixture.js";
import { runStress } from "./stress.test-fixture.js";

const ROUNDS = 4;
const RESOURCES = 45;

describe("state under deploys racing with readers, a second deploy, kills and pauses", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it.each(persistentStoreUrls("alchemy_stress", cleanups))("keeps every record readable and exactly as last deployed, on %s", { timeout: 300_000 }, async (_name, storeOf) => {
    const seed = Number(process.env.STRESS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const report = await runStress({ store: await storeOf(), rounds: ROUNDS, resources: RESOURCES, seed, cli: "source", disruptions: ["second", "kill", "pause", "none"] });
    expect(report.violations, `seed ${seed}`).toEqual([]);
    expect(report.failures, `seed ${seed}`).toEqual([]);
    expect(Object.values(report.reads).reduce((a, b) => a + b, 0)).toBeGreaterThan(ROUNDS);
    expect(report.kills + report.pauses).toBe(2);
  });
});
