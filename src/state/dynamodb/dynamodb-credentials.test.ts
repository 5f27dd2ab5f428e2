import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { writeProfiles } from "../../core/profiles/profile-file.js";
import type { StateStoreScope } from "../state-store.js";
import { DynamoDBStateStore, type DynamoDBStateStoreOptions } from "./dynamodb-state-store.js";
import { startProxy, type DynamoDBProxy } from "./dynamodb-proxy.test-fixture.js";
import { freshTable, record, useDynalite } from "./dynamodb.test-fixture.js";

const dynalite = useDynalite();
const STAGE = ["app", "dev"];
const PROFILE_SECRET = "profile-secret-never-printed";
const ENV_SECRET = "env-secret-never-printed";
/** What the SDK and alchemy read from the environment, saved before each case and put back after it. */
const VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "ALCHEMY_HOME", "ALCHEMY_PROFILE"];

let saved: Record<string, string | undefined> = {};
let home = "";
let proxy: DynamoDBProxy;
beforeEach(async () => {
  saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) delete process.env[name];
  home = mkdtempSync(path.join(tmpdir(), "alchemy-dynamodb-home-"));
  // No ~/.aws of whoever runs the tests: the SDK's default chain sees only what a case sets.
  Object.assign(process.env, { ALCHEMY_HOME: home, AWS_CONFIG_FILE: path.join(home, "no-aws-config"), AWS_SHARED_CREDENTIALS_FILE: path.join(home, "no-aws-credentials") });
  writeProfiles(path.join(home, "profiles.json"), {
    profiles: { ci: { aws: { accessKeyId: "AKIDPROFILE", secretAccessKey: PROFILE_SECRET, region: "eu-west-2" } }, keyless: { aws: { region: "eu-north-1" } } },
  });
  proxy = await startProxy((await dynalite()).endpoint);
});
afterEach(async () => {
  for (const name of VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  rmSync(home, { recursive: true, force: true });
  await proxy.close();
});

/** A store on a fresh table behind the proxy, with `options` and nothing else. */
const storeOf = (scope: StateStoreScope, options: Partial<DynamoDBStateStoreOptions> = {}) =>
  new DynamoDBStateStore(scope, { table: freshTable(), endpoint: proxy.endpoint, createTable: true, ...options });

/** The access keys and regions a store's requests (from making its table to writing a record) were signed with. */
async function signedWith(scope: StateStoreScope, options: Partial<DynamoDBStateStoreOptions> = {}): Promise<string[]> {
  proxy.reset();
  await storeOf(scope, options).set("api", record(STAGE, "api"));
  return [...new Set(proxy.signedWith)];
}

describe("the DynamoDB state store's region and credentials", () => {
  it("come from the options, else the aws section of the store's profile, else the run's, else ALCHEMY_PROFILE's", async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: ENV_SECRET, AWS_REGION: "us-west-1" });
    const option = { accessKeyId: "AKIDOPTION", secretAccessKey: "option-secret" };
    expect(await signedWith({ chain: STAGE, profile: "ci" })).toEqual(["AKIDPROFILE/eu-west-2"]);
    expect(await signedWith({ chain: STAGE, profile: "ci" }, { credentials: option, region: "eu-central-1" })).toEqual(["AKIDOPTION/eu-central-1"]);
    expect(await signedWith({ chain: STAGE, profile: "ci" }, { credentials: option })).toEqual(["AKIDOPTION/eu-west-2"]);
    expect(await signedWith({ chain: STAGE, profile: "keyless" }, { profile: "ci" })).toEqual(["AKIDPROFILE/eu-west-2"]);
    expect(await signedWith({ chain: STAGE, profile: "ci" }, { region: "ap-east-1" })).toEqual(["AKIDPROFILE/ap-east-1"]);
    process.env.ALCHEMY_PROFILE = "ci";
    expect(await signedWith({ chain: STAGE })).toEqual(["AKIDPROFILE/eu-west-2"]);
  });

  it("come from the environment and the AWS SDK's default chain when the profile has no access key: AWS_REGION, else AWS_DEFAULT_REGION, unless the profile names a region", async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: ENV_SECRET, AWS_REGION: "us-west-1", AWS_DEFAULT_REGION: "ap-south-1" });
    expect(await signedWith({ chain: STAGE, profile: "nobody" })).toEqual(["AKIDENV/us-west-1"]);
    expect(await signedWith({ chain: STAGE, profile: "keyless" })).toEqual(["AKIDENV/eu-north-1"]);
    delete process.env.AWS_REGION;
    expect(await signedWith({ chain: STAGE, profile: "nobody" })).toEqual(["AKIDENV/ap-south-1"]);
    delete process.env.AWS_DEFAULT_REGION;
    expect(await signedWith({ chain: STAGE, profile: "nobody" }, { region: "sa-east-1" })).toEqual(["AKIDENV/sa-east-1"]);
  });

  it("are named by where they came from when AWS refuses them, with the fix there, and never the secret", async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: ENV_SECRET, AWS_REGION: "us-west-1" });
    const cases: [StateStoreScope, Partial<DynamoDBStateStoreOptions>, string, string][] = [
      [{ chain: STAGE, profile: "ci" }, {}, `profile "ci" (aws section)`, "alchemy profile set ci aws.accessKeyId=... aws.secretAccessKey=-"],
      [{ chain: STAGE, profile: "ci" }, { credentials: { accessKeyId: "AKIDOPTION", secretAccessKey: "option-secret" } }, "the store's credentials option", "Check the credentials passed to DynamoDBStateStore"],
      [{ chain: STAGE, profile: "nobody" }, {}, "the AWS SDK's default chain: environment, shared config and credentials files", "Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"],
    ];
    for (const [scope, options, from, fix] of cases) {
      proxy.fail({ operation: "DescribeTable", times: 1, status: 400, type: "UnrecognizedClientException" });
      const error = (await storeOf(scope, options).init().catch((e: unknown) => e)) as StateStoreError;
      expect(error).toBeInstanceOf(StateStoreError);
      expect(error.message).toContain(`AWS did not accept the credentials (${from}) of the state store (DynamoDB table "`);
      expect(error.message).toContain(fix);
      for (const secret of [PROFILE_SECRET, ENV_SECRET, "option-secret"]) expect(error.message).not.toContain(secret);
    }
  });

  it("when no region is found anywhere, say each place one can be given, the profile's included", async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: ENV_SECRET });
    const error = (await storeOf({ chain: STAGE, profile: "nobody" }).init().catch((e: unknown) => e)) as StateStoreError;
    expect(error).toBeInstanceOf(StateStoreError);
    expect(error.message).toMatch(/^No AWS region for the state store's DynamoDB table "state-[^"]+": pass region \(in a store URL, dynamodb:\/\/state-\S+\?region=us-east-1\), /);
    expect(error.message).toContain("set it in the alchemy profile (`alchemy profile set nobody aws.region=us-east-1`), or set AWS_REGION.");
    expect(proxy.operations).toEqual([]);
  });
});
