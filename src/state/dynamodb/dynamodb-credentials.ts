/**
 * Where the DynamoDB state store's region and credentials come from, in the
 * same order as the S3 store's (`../s3/s3-state-store.ts`):
 *
 * - credentials: the store's `credentials` option, else the `aws` section of
 *   the profile (`accessKeyId` and `secretAccessKey`, optional
 *   `sessionToken`), else the AWS SDK's default chain (environment, shared
 *   config and credentials files, SSO, container and instance roles);
 * - region: the store's `region` option, else the profile's `aws.region`,
 *   else AWS_REGION, else AWS_DEFAULT_REGION, else what the SDK finds itself
 *   (the region of AWS_PROFILE in ~/.aws/config).
 *
 * The profile is the store's `profile` option, else the run's (`--profile`),
 * else ALCHEMY_PROFILE, else "default". It is read when the store first
 * connects, not when it is made. Messages say where the credentials came
 * from, never what they are.
 *
 * @module
 */
import { Credentials } from "../../core/profiles/credentials.js";
import type { StaticCredentials } from "./dynamodb-connection.js";

/**
 * Where a store's credentials came from: its `credentials` option, the
 * profile's `aws` section, the AWS SDK's default chain, or a client it was
 * given (whose credentials the store does not know).
 */
export type CredentialsFrom = "option" | "profile" | "chain" | "client";

/** A store's region and credentials, and where they came from. */
export interface AwsSettings {
  /** `undefined`: the SDK looks for one (and fails with "Region is missing" if it finds none). */
  region?: string;
  /** `undefined`: the SDK's default chain. */
  credentials?: StaticCredentials;
  credentialsFrom: CredentialsFrom;
  /** The alchemy profile whose `aws` section was consulted. */
  profile: string;
}

/**
 * The region and credentials of a store given `options`, from the profile
 * `profile` and the environment `env` as the module comment says.
 *
 * @throws ProfileError when the profiles file cannot be read or trusted.
 * @example
 * awsSettings({ region: "eu-west-1" }, "ci", process.env);
 * // { region: "eu-west-1", credentials: { accessKeyId: "AKIA...", ... }, credentialsFrom: "profile", profile: "ci" }
 */
export function awsSettings(options: { region?: string; credentials?: StaticCredentials }, profile: string, env: NodeJS.ProcessEnv): AwsSettings {
  const aws = Credentials.fromEnv(profile, env).tryFor("aws") ?? {};
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  const region = options.region ?? text(aws.region) ?? text(env.AWS_REGION) ?? text(env.AWS_DEFAULT_REGION);
  if (options.credentials !== undefined) return { region, credentials: options.credentials, credentialsFrom: "option", profile };
  const accessKeyId = text(aws.accessKeyId);
  const secretAccessKey = text(aws.secretAccessKey);
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    const sessionToken = text(aws.sessionToken);
    return { region, credentials: { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) }, credentialsFrom: "profile", profile };
  }
  return { region, credentialsFrom: "chain", profile };
}

/**
 * Where credentials came from, as messages say it.
 *
 * @example
 * describeCredentialsFrom("profile", "ci"); // 'profile "ci" (aws section)'
 */
export function describeCredentialsFrom(from: CredentialsFrom, profile: string | undefined): string {
  switch (from) {
    case "option":
      return "the store's credentials option";
    case "profile":
      return `profile "${profile}" (aws section)`;
    case "chain":
      return "the AWS SDK's default chain: environment, shared config and credentials files";
    case "client":
      return "the client given to the store";
  }
}
