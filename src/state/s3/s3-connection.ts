/**
 * One S3 client per endpoint, region and set of credentials per process,
 * shared by every store that names them, so that they share one cap on
 * requests in flight and one fence per locked stage (a write through any
 * store of the process is fenced by the lock it took).
 *
 * Credentials: those the store is given, else the `aws` section of the
 * profile (`accessKeyId`, `secretAccessKey`, optional `sessionToken` and
 * `region`), else the AWS SDK's default chain (environment, shared config
 * and credentials files, SSO, instance roles). The secret never leaves the
 * client: messages say where the credentials came from, never what they are.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import { loadDriver, type Drivers } from "../optional-driver.js";
import { InFlight } from "../objects/in-flight.js";
import { newBucketSession, type BucketSession } from "../objects/object-bucket.js";

/** Requests one connection keeps in flight at most; more wait their turn. */
const MAX_IN_FLIGHT = 32;

/** An access key, as the SDK takes it. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What a connection is made from. */
export interface S3ConnectionSettings {
  region: string;
  /** A custom endpoint (R2, an emulator); `undefined` for AWS S3 in `region`. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** `undefined`: the SDK's default chain. */
  credentials?: S3Credentials;
  /** Where the credentials came from, for messages: `profile "ci" (aws section)`. */
  credentialsFrom: string;
}

/**
 * A shared client and what the process keeps per connection. Get one with {@link s3Connection}.
 *
 * @example
 * const connection = s3Connection({ region: "eu-west-1", credentialsFrom: "the AWS SDK's default chain" });
 * const client = await connection.client();
 */
export class S3Connection {
  readonly session: BucketSession = newBucketSession();
  readonly inFlight = new InFlight(MAX_IN_FLIGHT);
  readonly endpoint: string;
  readonly customEndpoint: boolean;
  readonly credentialsFrom: string;
  readonly #settings: S3ConnectionSettings;
  #client: S3Client | undefined;
  readonly #guards = new AsyncLocalStorage<() => void>();
  #sdk: Drivers["@aws-sdk/client-s3"] | undefined;

  constructor(settings: S3ConnectionSettings) {
    this.#settings = settings;
    this.customEndpoint = settings.endpoint !== undefined;
    this.endpoint = (settings.endpoint ?? `https://s3.${settings.region}.amazonaws.com`).replace(/\/+$/, "");
    this.credentialsFrom = settings.credentialsFrom;
  }

  /** The SDK's module, loaded on first use. */
  get sdk(): Drivers["@aws-sdk/client-s3"] {
    return (this.#sdk ??= loadDriver("@aws-sdk/client-s3", "The S3 state store"));
  }

  /** The client, made on first use. */
  async client(): Promise<S3Client> {
    if (this.#client === undefined) {
      const { region, endpoint, forcePathStyle, credentials } = this.#settings;
      const client = new this.sdk.S3Client({ region, endpoint, forcePathStyle, credentials, maxAttempts: 1 });
      // Last before the HTTP handler: the request is signed and about to be written to the socket.
      const guards = this.#guards;
      client.middlewareStack.add((next) => async (args) => (guards.getStore()?.(), next(args)), { step: "deserialize", priority: "low", name: "alchemyWriteGuard" });
      this.#client = client;
    }
    return this.#client;
  }

  /**
   * Runs `send` (requests of this connection's client) with `guard` checked
   * once more right before each request goes out, after signing: a write
   * whose lease ran out while the SDK prepared it is not sent.
   */
  guarded<T>(guard: (() => void) | undefined, send: () => Promise<T>): Promise<T> {
    return guard === undefined ? send() : this.#guards.run(guard, send);
  }

  /** `text` with the secret key masked, should a message ever quote it. */
  redact(text: string): string {
    const secret = this.#settings.credentials?.secretAccessKey;
    return secret ? text.split(secret).join("****") : text;
  }
}

const connections = new Map<string, S3Connection>();

/**
 * The process's connection for `settings`: every store with the same
 * endpoint, region, addressing and credentials shares one.
 */
export function s3Connection(settings: S3ConnectionSettings): S3Connection {
  // A hash, so that the map holds no secret.
  const key = createHash("sha256")
    .update(JSON.stringify([settings.region, settings.endpoint ?? null, settings.forcePathStyle ?? false, settings.credentials ?? null]))
    .digest("hex");
  let connection = connections.get(key);
  if (connection === undefined) connections.set(key, (connection = new S3Connection(settings)));
  return connection;
}
