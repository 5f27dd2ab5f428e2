/**
 * What the DynamoDB state store says when AWS refuses a request: each error
 * of the SDK becomes a {@link StateStoreError} naming the table, what the
 * store was doing, and the fix (a command to run, a permission to grant, a
 * variable to set). Messages carry the SDK's own message, which never holds
 * a secret key; the store never puts credentials in a message.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { describeCredentialsFrom, type CredentialsFrom } from "./dynamodb-credentials.js";

/** Where a table is, as messages name it. */
export interface TablePlace {
  table: string;
  /** The region the client resolved, when known. */
  region?: string;
  /** The endpoint option, when one was given. */
  endpoint?: string;
  /** The options that point the AWS CLI at the table, e.g. ` --region eu-west-1 --endpoint-url http://localhost:8000`. */
  cli: string;
  /** Where the store's credentials came from, when known. */
  credentialsFrom?: CredentialsFrom;
  /** The alchemy profile whose `aws` section the store consulted (none with a client of its own). */
  profile?: string;
}

/** The IAM actions the store uses on its table. */
export const TABLE_ACTIONS = ["DescribeTable", "GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"];

const THROTTLED = new Set(["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "LimitExceededException"]);
const BAD_CREDENTIALS = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "MissingAuthenticationTokenException",
  "ExpiredTokenException",
  "ExpiredToken",
  "InvalidClientTokenId",
]);
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "TimeoutError"]);

/**
 * The command that creates the table with the key schema the store needs.
 *
 * @example
 * createTableCommand({ table: "state", cli: " --region us-east-1" });
 * // "aws dynamodb create-table --table-name state --attribute-definitions AttributeName=pk,AttributeType=S ... --region us-east-1"
 */
export function createTableCommand(place: TablePlace): string {
  return (
    `aws dynamodb create-table --table-name ${place.table} ` +
    "--attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=S " +
    "--key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE " +
    `--billing-mode PAY_PER_REQUEST${place.cli}`
  );
}

/** `table "state" (region us-east-1, endpoint http://...)` */
export function describeTable(place: TablePlace): string {
  const where = tableParts(place).slice(1);
  return `${tableParts(place)[0]}${where.length ? ` (${where.join(", ")})` : ""}`;
}

/** `table "state", region us-east-1, endpoint http://...` */
function tableParts(place: TablePlace): string[] {
  return [`table "${place.table}"`, place.region && `region ${place.region}`, place.endpoint && `endpoint ${place.endpoint}`].filter((x): x is string => Boolean(x));
}

/** The error for a table that does not exist, with the command that creates it. */
export function missingTable(place: TablePlace, cause?: unknown): StateStoreError {
  return new StateStoreError(
    `The DynamoDB ${describeTable(place)} of the state store does not exist. Create it with:\n  ${createTableCommand(place)}\n` +
      `or let the store create it: pass createTable: true (in a store URL, dynamodb://${place.table}?createTable=true).`,
    `dynamodb://${place.table}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * A {@link StateStoreError} for an error the SDK threw while the store was
 * `doing` something at `location`.
 *
 * @example
 * throw awsError(error, place, "read record \"api\"", "dynamodb://state pk=app/dev sk=/:api");
 */
export function awsError(error: unknown, place: TablePlace, doing: string, location: string): StateStoreError {
  if (error instanceof StateStoreError) return error;
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? "Error";
  const said = `${name}: ${e.message ?? String(error)}`;
  const table = tableParts(place).join(", ");
  const options = { cause: error };
  const from = place.credentialsFrom === undefined ? "" : ` (${describeCredentialsFrom(place.credentialsFrom, place.profile)})`;
  if (name === "ResourceNotFoundException") return missingTable(place, error);
  if (name === "AccessDeniedException") {
    return new StateStoreError(
      `AWS denied the state store's request (DynamoDB ${table}) to ${doing}: ${said}. ` +
        `Allow the identity of these credentials${from} dynamodb:${TABLE_ACTIONS.join(", dynamodb:")} on the table ` +
        `(and dynamodb:CreateTable if the store is to create it); \`aws sts get-caller-identity\` shows which identity the credentials are.`,
      location,
      options,
    );
  }
  if (BAD_CREDENTIALS.has(name)) {
    return new StateStoreError(
      `AWS did not accept the credentials${from} of the state store (DynamoDB ${table}) to ${doing}: ${said}. ` +
        `${checkCredentials(place)}; refresh an expired session (e.g. \`aws sso login\`); ` +
        "`aws sts get-caller-identity` shows whether the same credentials work.",
      location,
      options,
    );
  }
  if (name === "CredentialsProviderError") {
    return new StateStoreError(
      `Found no AWS credentials for the state store (DynamoDB ${table}) to ${doing}: ${e.message}. ` +
        "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile of ~/.aws/config; " +
        `or give the alchemy profile an access key: \`alchemy profile set ${place.profile ?? "<profile>"} aws.accessKeyId=... aws.secretAccessKey=-\`; ` +
        "or pass credentials to DynamoDBStateStore.",
      location,
      options,
    );
  }
  if (/region is missing/i.test(e.message ?? "")) {
    return new StateStoreError(
      `No AWS region for the state store's DynamoDB table "${place.table}": pass region (in a store URL, dynamodb://${place.table}?region=us-east-1), ` +
        `set it in the alchemy profile (\`alchemy profile set ${place.profile ?? "<profile>"} aws.region=us-east-1\`), or set AWS_REGION.`,
      location,
      options,
    );
  }
  if (THROTTLED.has(name)) {
    return new StateStoreError(
      `DynamoDB throttled the state store's requests (${table}) to ${doing}, also after the SDK's retries: ${said}. This request changed nothing. ` +
        `Run again; if it persists, switch the table to on-demand capacity (aws dynamodb update-table --table-name ${place.table} --billing-mode PAY_PER_REQUEST${place.cli}) or raise its provisioned capacity.`,
      location,
      options,
    );
  }
  if (UNREACHABLE.has(e.code ?? "") || UNREACHABLE.has(name)) {
    return new StateStoreError(
      `Could not reach DynamoDB (${table}) to ${doing}: ${said}. Check the network${place.endpoint ? ` and that ${place.endpoint} serves DynamoDB` : " and the region"}, then run again.`,
      location,
      options,
    );
  }
  return new StateStoreError(`DynamoDB refused the state store's request (${table}) to ${doing}: ${said}.`, location, options);
}

/** What to check when AWS refused the credentials, by where they came from. */
function checkCredentials(place: TablePlace): string {
  switch (place.credentialsFrom) {
    case "option":
      return "Check the credentials passed to DynamoDBStateStore";
    case "profile":
      return `Set the profile's access key again: \`alchemy profile set ${place.profile} aws.accessKeyId=... aws.secretAccessKey=-\` (and aws.sessionToken=- for temporary credentials)`;
    case "client":
      return "Check the credentials of the client given to DynamoDBStateStore";
    default:
      return "Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE";
  }
}

/** True when `error` is DynamoDB's answer to a write whose ConditionExpression did not hold. */
export function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === "ConditionalCheckFailedException";
}
