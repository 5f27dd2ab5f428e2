/**
 * Seed 001's Example 2 as a CI job runs it, through the real command line,
 * against our fake of the Cloudflare API (it proves our client, never
 * Cloudflare): `alchemy deploy --stage pr-123 --profile ci` deploys the
 * example's three scopes, a second deploy changes nothing, and
 * `alchemy destroy --stage pr-123 --profile ci --force` removes everything.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, removeProject, runAlchemy } from "../../src/cli/cli.test-fixture.js";
import { DEFAULT_TOKEN, startFakeCloudflare, type FakeCloudflare } from "../../src/providers/cloudflare/remote/fake/fake-cloudflare.test-fixture.js";
import { mutations } from "../../src/providers/cloudflare/remote/remote-deploy.test-fixture.js";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("the Cloudflare example as a pull request preview, against the fake Cloudflare API", () => {
  let fake: FakeCloudflare;
  let dir = "";
  let home = "";
  let env: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    fake = await startFakeCloudflare();
    dir = makeProject({});
    for (const entry of ["alchemy.run.ts", "src", "migrations"]) cpSync(path.join(here, entry), path.join(dir, entry), { recursive: true });
    home = mkdtempSync(path.join(tmpdir(), "alchemy-home-"));
    env = { ALCHEMY_HOME: home, PR_NUMBER: "123", ALCHEMY_PASSWORD: "ci-password", API_TOKEN: "preview-secret-value" };
    const set = await runAlchemy(["profile", "set", "ci", `cloudflare.apiToken=${DEFAULT_TOKEN}`, `cloudflare.accountId=${fake.accountId}`, `cloudflare.baseUrl=${fake.baseUrl}`], dir, env);
    expect(set.code, set.stderr).toBe(0);
  });
  afterAll(async () => {
    await fake?.close();
    removeProject(dir);
    rmSync(home, { recursive: true, force: true });
  });

  it("deploys stage pr-123 with profile ci: every Worker uploaded, the database migrated, the queue's consumer set", async () => {
    const deploy = await runAlchemy(["deploy", "--stage", "pr-123", "--profile", "ci", "-q"], dir, env);
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
    expect([...fake.state.workers.keys()].map((k) => k.split("/").pop()).sort()).toEqual([
      "cloudflare-example-api-api-worker-pr-123",
      "cloudflare-example-frontend-site-worker-pr-123",
      "cloudflare-example-jobs-job-worker-pr-123",
    ]);
    expect(deploy.stdout).toMatch(/api: https:\/\/cloudflare-example-api-api-worker-pr-123\.[\w-]+\.workers\.dev\//);
    const [database] = [...fake.state.d1Databases.values()];
    expect(database!.db.prepare("SELECT name FROM users").all()).toEqual([{ name: "ada" }]);
    expect(database!.db.prepare("SELECT name FROM d1_migrations ORDER BY id").all()).toEqual([{ name: "0001_users.sql" }, { name: "0002_seed.sql" }]);
    const [queue] = [...fake.state.queues.values()];
    expect(queue!.consumers.map((c) => [c.scriptName, c.settings.batch_size, c.settings.max_wait_time_ms])).toEqual([["cloudflare-example-jobs-job-worker-pr-123", 1, 1000]]);
    expect(deploy.stdout + deploy.stderr).not.toContain(DEFAULT_TOKEN);
    expect(deploy.stdout + deploy.stderr).not.toContain("preview-secret-value");
  });

  it("deploys again without a single mutating call", async () => {
    const mark = fake.requests.length;
    const again = await runAlchemy(["deploy", "--stage", "pr-123", "--profile", "ci", "-q"], dir, env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("No changes: 8 unchanged");
    expect(mutations(fake.requests.slice(mark))).toEqual([]);
  });

  it("destroys stage pr-123 with --force, waiting out a rate limit on a delete: nothing left in the account, the wait in --json", async () => {
    fake.failNext({ method: "DELETE", path: /\/workers\/scripts\// }, { status: 429, retryAfter: 1 });
    const destroy = await runAlchemy(["destroy", "--stage", "pr-123", "--profile", "ci", "--force", "--json"], dir, env);
    expect(destroy.code, destroy.stdout + destroy.stderr).toBe(0);
    const report = JSON.parse(destroy.stdout) as { summary: { deleted: number }; warnings: string[]; services: { cloudflareApi: { requests: number; retries: number; waitedMs: number } } };
    expect(report.summary.deleted).toBe(8);
    expect(report.warnings.join("\n")).toMatch(/rate limited by Cloudflare, resuming in 1 s/);
    expect(report.services.cloudflareApi.retries).toBeGreaterThanOrEqual(1);
    expect(report.services.cloudflareApi.waitedMs).toBeGreaterThanOrEqual(1000);
    expect(report.services.cloudflareApi.requests).toBeGreaterThan(8);
    expect(fake.state.workers.size + fake.state.d1Databases.size + fake.state.kvNamespaces.size + fake.state.r2Buckets.size + fake.state.queues.size).toBe(0);
  });
});
