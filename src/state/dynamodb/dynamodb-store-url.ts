/**
 * The `dynamodb://` store URL: `dynamodb://<table>?region=...&endpoint=...&createTable=true`.
 * Credentials never go in the URL: the store takes them from the `aws`
 * section of the profile (the command's `--profile`, else the run's), else
 * from the AWS SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
 * AWS_PROFILE, SSO, roles); see `dynamodb-credentials.ts`.
 *
 * @module
 */
import { AlchemyError } from "../../core/errors.js";

/** What a `dynamodb://` URL names. */
export interface DynamoDBLocation {
  kind: "dynamodb";
  table: string;
  region?: string;
  endpoint?: string;
  createTable?: boolean;
  /** The alchemy profile whose `aws` section gives credentials and region (a command's `--profile`). */
  profile?: string;
}

const PARAMS = ["region", "endpoint", "createTable"];

/**
 * Reads a `dynamodb://` URL.
 *
 * @param profile the profile whose `aws` section the store reads (a command's `--profile`); without it, the run's.
 * @throws AlchemyError saying the form when the URL names no table, or has a parameter the store does not take.
 * @example
 * parseDynamoDBUrl("dynamodb://alchemy-state?region=eu-west-1");
 * // { kind: "dynamodb", table: "alchemy-state", region: "eu-west-1" }
 */
export function parseDynamoDBUrl(url: string, profile?: string): DynamoDBLocation {
  const rest = url.slice("dynamodb://".length);
  const query = rest.indexOf("?");
  const table = (query < 0 ? rest : rest.slice(0, query)).replace(/\/+$/, "");
  if (!table || table.includes("/")) {
    throw new AlchemyError(`Store URL "${url}" does not name one table: write dynamodb://<table>?region=<region>, e.g. dynamodb://alchemy-state?region=us-east-1.`);
  }
  const params = new URLSearchParams(query < 0 ? "" : rest.slice(query + 1));
  const unknown = [...params.keys()].filter((name) => !PARAMS.includes(name));
  if (unknown.length > 0) {
    throw new AlchemyError(
      `Store URL "${url}" has ${unknown.map((n) => `"${n}"`).join(", ")}, which dynamodb:// does not take: it takes ${PARAMS.join(", ")} ` +
        "(credentials come from the profile's aws section, set with `alchemy profile set <profile> aws.accessKeyId=... aws.secretAccessKey=-`, " +
        "else from the AWS SDK's default chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE).",
    );
  }
  const createTable = params.get("createTable") || undefined;
  if (createTable !== undefined && createTable !== "true" && createTable !== "false") {
    throw new AlchemyError(`Store URL "${url}": createTable is true or false, not "${createTable}".`);
  }
  const region = params.get("region") || undefined;
  const endpoint = params.get("endpoint") || undefined;
  return {
    kind: "dynamodb",
    table,
    ...(region && { region }),
    ...(endpoint && { endpoint }),
    ...(createTable && { createTable: createTable === "true" }),
    ...(profile !== undefined && { profile }),
  };
}

/**
 * The URL of `location`, as users see it.
 *
 * @example
 * describeDynamoDBLocation({ kind: "dynamodb", table: "state", region: "eu-west-1" }); // "dynamodb://state?region=eu-west-1"
 */
export function describeDynamoDBLocation(location: DynamoDBLocation): string {
  const params = new URLSearchParams();
  if (location.region) params.set("region", location.region);
  if (location.endpoint) params.set("endpoint", location.endpoint);
  if (location.createTable) params.set("createTable", "true");
  const query = decodeURIComponent(params.toString());
  return `dynamodb://${location.table}${query ? `?${query}` : ""}`;
}
