import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_TOKEN } from "../../providers/cloudflare/remote/fake/fake-cloudflare.test-fixture.js";
import { runAlchemy } from "../../cli/cli.test-fixture.js";
import { project, removeProjectsAfterEach, world } from "../../cli/note-project.test-fixture.js";
import { describeLocation, parseStoreUrl } from "../store-url.js";
import { freshBucket, objectText, useFakeCloudflare } from "./r2-rest.test-fixture.js";

removeProjectsAfterEach();
const fakeCloudflare = useFakeCloudflare();

describe("the r2:// store URL", () => {
  it("names a bucket and a prefix, and a URL without a bucket is refused saying the form", () => {
    expect(parseStoreUrl("r2://my-state/alchemy/team", "/")).toEqual({ kind: "r2", bucket: "my-state", prefix: "alchemy/team" });
    expect(parseStoreUrl("r2://my-state", "/")).toEqual({ kind: "r2", bucket: "my-state", prefix: "" });
    expect(describeLocation(parseStoreUrl("r2://my-state/alchemy", "/"))).toBe("r2://my-state/alchemy");
    expect(() => parseStoreUrl("r2://", "/")).toThrow(/names no bucket: write r2:\/\/<bucket>\/<prefix>/);
  });

  it("keeps a deploy's state in the bucket with --state, credentials from CLOUDFLARE_*: stages and state list read it, destroy empties it", async () => {
    const fake = await fakeCloudflare();
    const bucket = await freshBucket(fake);
    const dir = project(`await Note("a", { text: "alpha" });`);
    const env = { CLOUDFLARE_API_TOKEN: DEFAULT_TOKEN, CLOUDFLARE_ACCOUNT_ID: fake.accountId, CLOUDFLARE_BASE_URL: fake.baseUrl };
    const state = ["--state", `r2://${bucket}/team`];
    const deploy = await runAlchemy(["deploy", "--stage", "pr-1", "-q", ...state], dir, env);
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
    expect(JSON.parse(objectText(fake, bucket, "team/shop/pr-1/a.json")!)).toMatchObject({ fqn: "shop/pr-1/a", status: "created" });
    const list = await runAlchemy(["state", "list", "--app", "shop", "--stage", "pr-1", ...state], dir, env);
    expect(list.stdout).toMatch(/^shop\/pr-1\/a +test::Note +created\n$/);
    const destroy = await runAlchemy(["destroy", "--stage", "pr-1", "--force", "-q", ...state], dir, env);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(world(dir)).toEqual([]);
    expect(objectText(fake, bucket, "team/shop/pr-1/a.json")).toBeUndefined();
    expect(deploy.stdout + deploy.stderr + list.stdout + destroy.stdout + destroy.stderr).not.toContain(DEFAULT_TOKEN);
  });

  it("takes its token from the --profile of deploy and of the state commands, not the default profile", async () => {
    const fake = await fakeCloudflare();
    const bucket = await freshBucket(fake);
    const dir = project(`await Note("a", { text: "alpha" });`);
    const home = mkdtempSync(path.join(tmpdir(), "alchemy-home-"));
    try {
      const env = { ALCHEMY_HOME: home };
      const set = await runAlchemy(["profile", "set", "ci", `cloudflare.apiToken=${DEFAULT_TOKEN}`, `cloudflare.accountId=${fake.accountId}`, `cloudflare.baseUrl=${fake.baseUrl}`], dir, env);
      expect(set.code, set.stderr).toBe(0);
      const state = ["--state", `r2://${bucket}/team`];
      const deploy = await runAlchemy(["deploy", "--stage", "pr-2", "--profile", "ci", "-q", ...state], dir, env);
      expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
      expect(objectText(fake, bucket, "team/shop/pr-2/a.json")).toBeDefined();
      const list = await runAlchemy(["state", "list", "--app", "shop", "--stage", "pr-2", "--profile", "ci", ...state], dir, env);
      expect(list.stdout).toMatch(/^shop\/pr-2\/a +test::Note +created\n$/);
      // The default profile has no cloudflare section: the error says which profile and how to fix it.
      const withoutProfile = await runAlchemy(["state", "list", "--app", "shop", "--stage", "pr-2", ...state], dir, env);
      expect(withoutProfile.code).not.toBe(0);
      expect(withoutProfile.stderr).toContain('profile "default"');
      expect(withoutProfile.stderr).toContain("alchemy profile set default cloudflare.apiToken=-");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
