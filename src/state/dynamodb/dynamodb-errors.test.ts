import { describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { awsError } from "./dynamodb-errors.js";

const place = { table: "alchemy-state", region: "eu-west-1", cli: " --region eu-west-1" };
const LOCATION = "dynamodb://alchemy-state pk=app/dev sk=/:api";
/** An error as the SDK throws it: a name, a message, and what the response said. */
const sdkError = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 }, ...extra });

describe("errors of AWS, as the DynamoDB state store reports them", () => {
  it.each([
    ["AccessDeniedException", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: dynamodb:UpdateItem", /^AWS denied the state store's request \(DynamoDB table "alchemy-state", region eu-west-1\) to write record "api": AccessDeniedException: .*Allow the identity of these credentials dynamodb:DescribeTable, dynamodb:GetItem, dynamodb:BatchGetItem, dynamodb:Query, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem on the table/],
    ["UnrecognizedClientException", "The security token included in the request is invalid.", /^AWS did not accept the credentials of the state store \(DynamoDB table "alchemy-state", region eu-west-1\) to write record "api": .*Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/],
    ["ExpiredTokenException", "The security token included in the request is expired", /refresh an expired session \(e\.g\. `aws sso login`\)/],
    ["CredentialsProviderError", "Could not load credentials from any providers", /^Found no AWS credentials for the state store \(DynamoDB table "alchemy-state", region eu-west-1\) to write record "api": Could not load credentials from any providers\. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE/],
    ["ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded.", /^DynamoDB throttled the state store's requests .* switch the table to on-demand capacity \(aws dynamodb update-table --table-name alchemy-state --billing-mode PAY_PER_REQUEST --region eu-west-1\)/],
    ["ThrottlingException", "Rate of requests exceeds the allowed throughput.", /^DynamoDB throttled the state store's requests/],
    ["ResourceNotFoundException", "Requested resource not found", /^The DynamoDB table "alchemy-state" \(region eu-west-1\) of the state store does not exist\. Create it with:\n  aws dynamodb create-table --table-name alchemy-state /],
    ["Error", "Region is missing", /^No AWS region for the state store's DynamoDB table "alchemy-state": pass region \(in a store URL, dynamodb:\/\/alchemy-state\?region=us-east-1\), set it in the alchemy profile \(`alchemy profile set <profile> aws\.region=us-east-1`\), or set AWS_REGION\.$/],
    ["InternalServerError", "Internal server error", /^DynamoDB refused the state store's request \(table "alchemy-state", region eu-west-1\) to write record "api": InternalServerError: Internal server error\.$/],
  ])("%s becomes a StateStoreError naming the table and the fix", (name, message, expected) => {
    const cause = sdkError(name, message);
    const error = awsError(cause, place, 'write record "api"', LOCATION);
    expect(error).toBeInstanceOf(StateStoreError);
    expect(error.message).toMatch(expected);
    expect(error.cause).toBe(cause);
    expect(error.location).toBe(name === "ResourceNotFoundException" ? "dynamodb://alchemy-state" : LOCATION);
  });

  it("passes a StateStoreError through as it is", () => {
    const original = new StateStoreError("already explained", LOCATION);
    expect(awsError(original, place, "read", LOCATION)).toBe(original);
  });
});
