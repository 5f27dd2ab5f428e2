import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runAlchemy } from "../../cli/cli.test-fixture.js";
import { project, removeProjectsAfterEach, world } from "../../cli/note-project.test-fixture.js";
import { describeLocation, parseStoreUrl, storeFactory } from "../store-url.js";
import { R2RestStateStore } from "../r2-rest/r2-rest-state-store.js";
import { emulatorEnv, useS3Emulator } from "./s3-emulator.test-fixture.js";
import { R2StateStore } from "./r2-state-store.js";
import { S3StateStore } from "./s3-state-store.js";

removeProjectsAfterEach();
const emulator = useS3Emulator(["state"]);

describe("the s3:// and r2:// store URLs", () => {
  it("name a bucket, a prefix and the endpoint's settings, and refuse what they do not take", () => {
    expect(parseStoreUrl("s3://my-state/alchemy/team?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A4568&forcePathStyle=true", "/")).toEqual({
      kind: "s3",
      bucket: "my-state",
      prefix: "alchemy/team",
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:4568",
      forcePathStyle: true,
    });
    expect(parseStoreUrl("r2://my-state/alchemy?api=s3&accountId=abc", "/")).toEqual({ kind: "r2", bucket: "my-state", prefix: "alchemy", api: "s3", accountId: "abc" });
    expect(describeLocation(parseStoreUrl("s3://my-state/alchemy?region=eu-west-1", "/"))).toBe("s3://my-state/alchemy");
    expect(() => parseStoreUrl("s3://", "/")).toThrow(/names no bucket: write s3:\/\/<bucket>\/<prefix>/);
    expect(() => parseStoreUrl("s3://b/p?regoin=x", "/")).toThrow(/has "regoin", which s3:\/\/ does not take: it takes region, endpoint, forcePathStyle/);
    expect(() => parseStoreUrl("r2://b/p?api=graphql", "/")).toThrow(/api is s3 \(R2's S3 endpoint\) or rest/);
    expect(() => parseStoreUrl("s3://b/p?forcePathStyle=yes", "/")).toThrow(/forcePathStyle is true or false/);
  });

  it("open R2 through its S3 API when an R2 access key is at hand or api=s3 says so, else through the REST API", () => {
    const saved = process.env.R2_ACCESS_KEY_ID;
    try {
      delete process.env.R2_ACCESS_KEY_ID;
      const open = (url: string) => storeFactory(parseStoreUrl(url, "/"))({ chain: ["app", "dev"], profile: "nobody" });
      expect(open("r2://my-state/p")).toBeInstanceOf(R2RestStateStore);
      expect(open("r2://my-state/p?api=s3")).toBeInstanceOf(R2StateStore);
      process.env.R2_ACCESS_KEY_ID = "key-id";
      expect(open("r2://my-state/p")).toBeInstanceOf(R2StateStore);
      expect(open("r2://my-state/p?api=rest")).toBeInstanceOf(R2RestStateStore);
      expect(open("s3://my-state/p")).toBeInstanceOf(S3StateStore);
    } finally {
      if (saved === undefined) delete process.env.R2_ACCESS_KEY_ID;
      else process.env.R2_ACCESS_KEY_ID = saved;
    }
  });

  it("keep a deploy's state in S3 with --state (credentials from the AWS environment), migrate it to the filesystem verified, and destroy it", async () => {
    const s3 = await emulator();
    const prefix = `cli-${randomUUID()}`;
    const dir = project(`await Note("a", { text: "alpha" });\nawait alchemy.run("inner", async () => { await Note("b", { text: "beta" }); });`);
    const env = emulatorEnv();
    const state = ["--state", s3.url("state", prefix)];
    const deploy = await runAlchemy(["deploy", "--stage", "pr-1", "-q", ...state], dir, env);
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
    const list = await runAlchemy(["state", "list", "--app", "shop", "--stage", "pr-1", ...state], dir, env);
    expect(list.stdout).toMatch(/^shop\/pr-1\/a +test::Note +created\nshop\/pr-1\/inner\/b +test::Note +created\n$/);
    const migrate = await runAlchemy(["state", "migrate", "--app", "shop", "--stage", "pr-1", "--from", s3.url("state", prefix), "--to", "file:copy"], dir, env);
    expect(migrate.code, migrate.stdout + migrate.stderr).toBe(0);
    const copied = await runAlchemy(["state", "list", "--app", "shop", "--stage", "pr-1", "--state", "file:copy"], dir, env);
    expect(copied.stdout).toBe(list.stdout);
    const destroy = await runAlchemy(["destroy", "--stage", "pr-1", "--force", "-q", ...state], dir, env);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(world(dir)).toEqual([]);
    const after = await runAlchemy(["state", "list", "--app", "shop", "--stage", "pr-1", ...state], dir, env);
    expect(after.stdout).toContain(`No resources recorded for app "shop", stage "pr-1" in s3://state/${prefix}`);
  });

  it("keep state in R2 through its S3 API with r2:// and an R2 access key in the environment", async () => {
    const s3 = await emulator();
    const prefix = `r2-${randomUUID()}`;
    const dir = project(`await Note("a", { text: "alpha" });`);
    const env = { R2_ACCESS_KEY_ID: "S3RVER", R2_SECRET_ACCESS_KEY: "S3RVER" };
    const url = `r2://state/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}`;
    const deploy = await runAlchemy(["deploy", "--stage", "dev", "-q", "--state", url], dir, env);
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
    const read = new S3StateStore({ chain: ["shop", "dev"] }, s3.options("state", { prefix }));
    expect(await read.list()).toEqual(["a"]);
    expect(await read.lockInfo()).toBeUndefined();
  });

  it("take the access key from the --profile's aws section (s3://) or cloudflare.r2AccessKeyId (r2://), with nothing in the environment", async () => {
    const s3 = await emulator();
    const prefix = `profile-${randomUUID()}`;
    const dir = project(`await Note("a", { text: "alpha" });`);
    const home = mkdtempSync(path.join(tmpdir(), "alchemy-home-"));
    try {
      const env = { ALCHEMY_HOME: home };
      const set = await runAlchemy(["profile", "set", "ci", "aws.accessKeyId=S3RVER", "aws.secretAccessKey=S3RVER", "aws.region=us-east-1", "cloudflare.r2AccessKeyId=S3RVER", "cloudflare.r2SecretAccessKey=S3RVER"], dir, env);
      expect(set.code, set.stderr).toBe(0);
      const viaS3 = await runAlchemy(["deploy", "--stage", "s3", "-q", "--profile", "ci", "--state", s3.url("state", prefix)], dir, env);
      expect(viaS3.code, viaS3.stdout + viaS3.stderr).toBe(0);
      const viaR2 = await runAlchemy(["deploy", "--stage", "r2", "-q", "--profile", "ci", "--state", `r2://state/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}`], dir, env);
      expect(viaR2.code, viaR2.stdout + viaR2.stderr).toBe(0);
      const read = (stage: string) => new S3StateStore({ chain: ["shop", stage] }, s3.options("state", { prefix })).list();
      expect([await read("s3"), await read("r2")]).toEqual([["a"], ["a"]]);
      // Without the profile there is no access key: the error says where keys come from, never a secret.
      const none = await runAlchemy(["state", "list", "--app", "shop", "--stage", "r2", "--state", `r2://state/${prefix}?api=s3&endpoint=${encodeURIComponent(s3.endpoint)}`], dir, env);
      expect(none.code).not.toBe(0);
      expect(none.stderr).toContain("has no R2 access key");
      expect(none.stderr).toContain("alchemy profile set default cloudflare.r2AccessKeyId=... cloudflare.r2SecretAccessKey=-");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
