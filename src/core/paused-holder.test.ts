/**
 * A run paused (SIGSTOP) past its stage lock's lease, whose stage another run
 * then took over and deployed, must not act once it resumes (SIGCONT): no
 * handler starts, no record changes. Real processes on every store.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, removeProject, runAlchemy, startAlchemy } from "../cli/cli.test-fixture.js";
import { CHILD_AWS_ENV, freshTable, startDynaliteProcess, storeUrl } from "../state/dynamodb/dynamodb.test-fixture.js";
import { emulatorEnv, startS3Emulator } from "../state/s3/s3-emulator.test-fixture.js";
import { persistentStoreUrls } from "../state/store-urls.test-fixture.js";

const RESOURCES = 300;
/** The paused run's lease: short, so that the test does not wait long for the takeover. */
const PAUSED_LEASE_MS = 2_000;

const program = `
import fs from "node:fs";
import alchemy, { Resource } from "alchemy";
const Effect = Resource("test::Effect", async function (this: any, id: string, props: { v: string }) {
  if (this.phase === "delete") return this.destroy();
  // One line per handler started: the side effect a paused run must not cause after it lost the stage.
  fs.appendFileSync(process.env.EFFECTS!, \`\${process.pid} \${this.phase} \${id}\\n\`);
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.HOLD ?? 0)));
  return { v: props.v };
});
const app = await alchemy("fence", { lockLeaseMs: Number(process.env.LEASE ?? 30000) });
await Promise.all(Array.from({ length: ${RESOURCES} }, (_, i) => Effect(\`r\${i}\`, { v: process.env.V! })));
await app.finalize();
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a run paused past its stage lock's lease", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const s3Store: [string, () => Promise<string>] = [
    "the S3 store (s3rver)",
    async () => {
      const s3 = await startS3Emulator(["state"]);
      cleanups.push(() => s3.stop());
      return s3.url("state", "paused");
    },
  ];

  const dynamoDBStore: [string, () => Promise<string>] = [
    "the DynamoDB store (dynalite)",
    async () => {
      const dynalite = await startDynaliteProcess();
      cleanups.push(() => dynalite.close());
      return storeUrl(dynalite, freshTable());
    },
  ];

  it.each([...persistentStoreUrls("alchemy_paused", cleanups), s3Store, dynamoDBStore])(
    "starts no handler and changes no record after another run took its stage over, on %s",
    { timeout: 120_000 },
    async (_name, storeOf) => {
      const project = makeProject({ "alchemy.run.ts": program });
      cleanups.push(() => removeProject(project));
      const store = await storeOf();
      const effects = path.join(project, "effects.log");
      const credentials = store.startsWith("s3://") ? emulatorEnv() : store.startsWith("dynamodb://") ? CHILD_AWS_ENV : {};
      const env = (v: string, extra: Record<string, string> = {}) => ({ ...credentials, EFFECTS: effects, V: v, ALCHEMY_STATE_STORE: store, ...extra });
      const linesOf = (pid: number) => {
        try {
          return readFileSync(effects, "utf8").split("\n").filter((line) => line.startsWith(`${pid} `)).length;
        } catch {
          return 0;
        }
      };

      // A: slow handlers, 20 at a time, on a short lease; paused once it has started some.
      const a = startAlchemy(["deploy", "-s", "prod", "-q", "--concurrency", "20"], project, env("a", { HOLD: "150", LEASE: String(PAUSED_LEASE_MS) }));
      cleanups.push(() => a.child.kill("SIGKILL"));
      const pid = a.child.pid!;
      for (let waited = 0; linesOf(pid) < 30; waited += 20) {
        if (waited > 60_000) throw new Error(`run A started no handler in 60 s:\n${(await Promise.race([a.done, sleep(0)]) as { stderr?: string })?.stderr ?? ""}`);
        await sleep(20);
      }
      a.child.kill("SIGSTOP");
      cleanups.push(() => a.child.kill("SIGCONT"));
      await sleep(PAUSED_LEASE_MS + 1_000);

      // B takes the stale lock over and deploys every resource.
      const b = await runAlchemy(["deploy", "-s", "prod", "-q"], project, env("b"));
      expect(b.code, b.stderr).toBe(0);
      expect(b.stderr).toMatch(/Took over a stale lock/);
      const exported = () => runAlchemy(["state", "export", "-s", "prod", "--app", "fence"], project, env("b"));
      const before = await exported();
      expect(before.code, before.stderr).toBe(0);
      const startedByA = linesOf(pid);

      // A resumes: it must stop without starting a handler or changing a record.
      a.child.kill("SIGCONT");
      const resumed = await a.done;
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(1);
      expect(resumed.stdout + resumed.stderr).toMatch(/Lost the lock/);
      // The lease is checked right before each handler starts. A pause that lands between that check and the
      // handler's first statement (microseconds; JavaScript starts one handler at a time) lets that one handler
      // run; none can start after the run resumed. Before the check, hundreds did.
      expect(linesOf(pid) - startedByA, "handlers the paused run started after it resumed").toBeLessThanOrEqual(1);
      const after = await exported();
      expect(after.stdout).toBe(before.stdout);
      const records = (JSON.parse(after.stdout) as { records: Array<{ state: { status: string; output: { v: string } } }> }).records.map((r) => r.state);
      expect(records).toHaveLength(RESOURCES);
      expect(records.every((r) => r.status === "created" || r.status === "updated")).toBe(true);
      expect(new Set(records.map((r) => r.output.v))).toEqual(new Set(["b"]));
      const plan = await runAlchemy(["plan", "-s", "prod"], project, env("b"));
      expect(plan.stdout).toMatch(/No changes/);
    },
  );
});
