/**
 * The DynamoDB client a process's stores share, and what they share with
 * it: the write fences of the stages this process locked, which tables were
 * found ready, and which stages were entered in the registry.
 *
 * One connection per settings (region, endpoint, credentials) or per client
 * passed in: stores of one stage made with the same settings fence their
 * writes through one fence, as they would in one run; a test that wants two
 * "processes" in one gives each its own client.
 *
 * `@aws-sdk/client-dynamodb` is an optional peer dependency, loaded when the
 * first connection is made (`../optional-driver.ts`), never when the store's
 * module is imported.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { loadDriver } from "../optional-driver.js";
import type { DynamoDBStageFence } from "./dynamodb-stage-fence.js";

/** The SDK module. */
export type DynamoDBSdk = typeof import("@aws-sdk/client-dynamodb");

/** Fixed AWS credentials: an access key, and a session token for temporary ones. */
export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** How to reach DynamoDB. */
export interface ConnectionSettings {
  region?: string;
  endpoint?: string;
  credentials?: StaticCredentials;
  client?: DynamoDBClient;
}

/**
 * Requests in flight per connection, out of the 50 sockets of the SDK's
 * HTTP agent (which queues the rest, and warns on the console when its
 * queue grows): the stage lock's requests skip this queue and take the
 * sockets left over, so a heartbeat never waits behind a deploy's writes.
 */
const MAX_IN_FLIGHT = 46;

/** A client and what the stores using it share. */
export class DynamoDBConnection {
  /** The fence of each stage this process holds the lock of, by {@link stageKey}. */
  readonly fences = new Map<string, DynamoDBStageFence>();
  /** Per table name: resolves once the table was found (or made) ready, to the client's region. */
  readonly tables = new Map<string, Promise<string | undefined>>();
  /** Per {@link stageKey}: the stage's entry in the registry, written once per process. */
  readonly registered = new Map<string, Promise<void>>();
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly sdk: DynamoDBSdk,
    readonly client: DynamoDBClient,
  ) {}

  /** Runs `request` once fewer than {@link MAX_IN_FLIGHT} of this connection's requests are in flight. */
  async slot<T>(request: () => Promise<T>): Promise<T> {
    if (this.#active >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await request();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

/** The key of a stage in {@link DynamoDBConnection.fences} and `.registered`. */
export function stageKey(table: string, pk: string): string {
  return `${table}\n${pk}`;
}

const bySettings = new Map<string, DynamoDBConnection>();
const byClient = new WeakMap<DynamoDBClient, DynamoDBConnection>();

/**
 * The connection for `settings`, made on first use.
 *
 * @throws AlchemyError saying to install `@aws-sdk/client-dynamodb` (at the version package.json pins) when it is missing.
 * @example
 * const connection = dynamoDBConnection({ region: "eu-west-1" });
 */
export function dynamoDBConnection(settings: ConnectionSettings): DynamoDBConnection {
  if (settings.client !== undefined) {
    let connection = byClient.get(settings.client);
    if (connection === undefined) byClient.set(settings.client, (connection = new DynamoDBConnection(loadSdk(), settings.client)));
    return connection;
  }
  const { region, endpoint, credentials } = settings;
  // The secret is part of what tells connections apart, as a digest: it stays out of any key that could be shown.
  const secret = credentials && createHash("sha256").update(`${credentials.secretAccessKey}\n${credentials.sessionToken ?? ""}`).digest("hex");
  const key = JSON.stringify([region ?? null, endpoint ?? null, credentials?.accessKeyId ?? null, secret ?? null]);
  let connection = bySettings.get(key);
  if (connection === undefined) {
    const sdk = loadSdk();
    const client = new sdk.DynamoDBClient({ region, endpoint, credentials });
    bySettings.set(key, (connection = new DynamoDBConnection(sdk, client)));
  }
  return connection;
}

function loadSdk(): DynamoDBSdk {
  return loadDriver("@aws-sdk/client-dynamodb", "The DynamoDB state store");
}
