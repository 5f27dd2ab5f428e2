import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { runAlchemy } from "../../cli/cli.test-fixture.js";
import { project, removeProjectsAfterEach, world } from "../../cli/note-project.test-fixture.js";
import { writeProfiles } from "../../core/profiles/profile-file.js";
import { describeLocation, parseStoreUrl, storeFactory } from "../store-url.js";
import { DynamoDBStateStore } from "./dynamodb-state-store.js";
import { startProxy } from "./dynamodb-proxy.test-fixture.js";
import { CHILD_AWS_ENV, freshTable, separateClient, storeUrl, TEST_CREDENTIALS, useDynalite } from "./dynamodb.test-fixture.js";

removeProjectsAfterEach();
const dynalite = useDynalite();

describe("the dynamodb:// store URL", () => {
  it("names a table, and optionally its region, an endpoint and createTable; anything else is refused saying the form", () => {
    expect(parseStoreUrl("dynamodb://alchemy-state", "/")).toEqual({ kind: "dynamodb", table: "alchemy-state" });
    const local = "dynamodb://state?region=eu-west-1&endpoint=http://localhost:8000&createTable=true";
    expect(parseStoreUrl(local, "/")).toEqual({ kind: "dynamodb", table: "state", region: "eu-west-1", endpoint: "http://localhost:8000", createTable: true });
    expect(describeLocation(parseStoreUrl(local, "/"))).toBe(local);
    expect(describeLocation(parseStoreUrl("dynamodb://state/", "/"))).toBe("dynamodb://state");
    expect(storeFactory(parseStoreUrl(local, "/"))({ chain: ["app", "dev"] })).toBeInstanceOf(DynamoDBStateStore);
    expect(() => parseStoreUrl("dynamodb://", "/")).toThrow(/does not name one table: write dynamodb:\/\/<table>\?region=<region>/);
    expect(() => parseStoreUrl("dynamodb://a/b", "/")).toThrow(/does not name one table/);
    expect(() => parseStoreUrl("dynamodb://state?secretAccessKey=x", "/")).toThrow(
      /has "secretAccessKey", which dynamodb:\/\/ does not take: it takes region, endpoint, createTable \(credentials come from the profile's aws section, .* else from the AWS SDK's default chain/,
    );
    expect(() => parseStoreUrl("dynamodb://state?createTable=yes", "/")).toThrow(/createTable is true or false, not "yes"/);
    expect(parseStoreUrl("dynamodb://state", "/", "ci")).toEqual({ kind: "dynamodb", table: "state", profile: "ci" }); // a command's --profile
    expect(describeLocation(parseStoreUrl("dynamodb://state", "/", "ci"))).toBe("dynamodb://state");
  });

  it("takes the access key and region from the aws section of --profile, with nothing of AWS in the environment, and says how to set one when there is none", async () => {
    const server = await dynalite();
    const proxy = await startProxy(server.endpoint);
    const home = mkdtempSync(path.join(tmpdir(), "alchemy-home-"));
    try {
      writeProfiles(path.join(home, "profiles.json"), { profiles: { ci: { aws: { accessKeyId: "AKIDCI", secretAccessKey: TEST_CREDENTIALS.secretAccessKey, region: "eu-west-2" } } } });
      const env = {
        ALCHEMY_HOME: home,
        AWS_CONFIG_FILE: path.join(home, "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE: path.join(home, "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      };
      const dir = project(`await Note("a", { text: "alpha" });`);
      const url = `dynamodb://${freshTable()}?endpoint=${proxy.endpoint}&createTable=true`;
      const deploy = await runAlchemy(["deploy", "--stage", "dev", "-q", "--profile", "ci", "--state", url], dir, env);
      expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
      const list = await runAlchemy(["state", "list", "--app", "shop", "--stage", "dev", "--profile", "ci", "--state", url], dir, env);
      expect(list.stdout).toMatch(/^shop\/dev\/a +test::Note +created\n$/);
      expect(proxy.signedWith.length).toBeGreaterThan(0);
      expect(new Set(proxy.signedWith)).toEqual(new Set(["AKIDCI/eu-west-2"]));
      const none = await runAlchemy(["state", "list", "--app", "shop", "--stage", "dev", "--state", `${url}&region=eu-west-2`], dir, env);
      expect(none.code).not.toBe(0);
      expect(none.stderr).toContain("Found no AWS credentials for the state store");
      expect(none.stderr).toContain("`alchemy profile set default aws.accessKeyId=... aws.secretAccessKey=-`");
      expect(deploy.stdout + deploy.stderr + list.stdout + list.stderr + none.stderr).not.toContain(TEST_CREDENTIALS.secretAccessKey);
    } finally {
      await proxy.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("keeps a deploy's state in the table with --state, credentials from AWS_*: state list reads it, destroy empties it, the secret key printed nowhere", async () => {
    const server = await dynalite();
    const table = freshTable();
    const dir = project(`await Note("a", { text: "alpha" });`);
    const state = ["--state", storeUrl(server, table)];
    const deploy = await runAlchemy(["deploy", "--stage", "pr-1", "-q", ...state], dir, CHILD_AWS_ENV);
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
    const item = async () => (await separateClient(server).send(new GetItemCommand({ TableName: table, Key: { pk: { S: "shop/pr-1" }, sk: { S: "/:a" } } }))).Item;
    expect(JSON.parse((await item())!.state!.S!)).toMatchObject({ fqn: "shop/pr-1/a", status: "created" });
    const list = await runAlchemy(["state", "list", "--app", "shop", "--stage", "pr-1", ...state], dir, CHILD_AWS_ENV);
    expect(list.stdout).toMatch(/^shop\/pr-1\/a +test::Note +created\n$/);
    const stages = await runAlchemy(["state", "stages", "--app", "shop", ...state], dir, CHILD_AWS_ENV);
    expect(stages.stdout).toContain("pr-1");
    const destroy = await runAlchemy(["destroy", "--stage", "pr-1", "--force", "-q", ...state], dir, CHILD_AWS_ENV);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(world(dir)).toEqual([]);
    expect(await item()).toBeUndefined();
    const output = [deploy, list, stages, destroy].map((r) => r.stdout + r.stderr).join("");
    expect(output).not.toContain(TEST_CREDENTIALS.secretAccessKey);
  });

  it("shows the AWS SDK's NodeVersionSupportWarning once on stderr of a run on Node < 22, unless AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED is true", async () => {
    const server = await dynalite();
    const dir = project(`await Note("a", { text: "alpha" });`);
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, ...warned } = CHILD_AWS_ENV;
    const deploy = await runAlchemy(["deploy", "--stage", "dev", "-q", "--state", storeUrl(server, freshTable())], dir, warned);
    expect(deploy.code, deploy.stderr).toBe(0);
    const before22 = Number(process.versions.node.split(".")[0]) < 22;
    expect(deploy.stderr.split("NodeVersionSupportWarning").length - 1).toBe(before22 ? 1 : 0);
    const quiet = await runAlchemy(["deploy", "--stage", "dev", "-q", "--state", storeUrl(server, freshTable())], dir, CHILD_AWS_ENV);
    expect(quiet.stderr).toBe("started a\n"); // the Note handler's line, and nothing of the SDK
  });
});
