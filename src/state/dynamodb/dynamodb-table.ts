/**
 * The state store's table: making sure it exists with the key schema the
 * store needs (creating it when asked), and sending requests to it, with
 * every error of AWS turned into a `StateStoreError` that names the table
 * and the fix (`dynamodb-errors.ts`).
 *
 * @module
 */
import type { AttributeValue, QueryCommandInput, QueryCommandOutput, TableDescription } from "@aws-sdk/client-dynamodb";
import { AlchemyError, StateStoreError } from "../../core/errors.js";
import type { DynamoDBConnection, DynamoDBSdk } from "./dynamodb-connection.js";
import type { CredentialsFrom } from "./dynamodb-credentials.js";
import { awsError, createTableCommand, describeTable, isConditionFailed, missingTable, type TablePlace } from "./dynamodb-errors.js";

/** An item as the SDK gives and takes it. */
export type Item = Record<string, AttributeValue>;

/** What an SDK command resolves to. */
export type Output<C> = C extends { resolveMiddleware(...args: never[]): (...args: never[]) => Promise<{ output: infer O }> } ? O : never;

/** What the store needs of an SDK command: its middleware stack, to check the lease before each attempt. */
export interface Command {
  middlewareStack: { add(...args: never[]): void };
}

/** A middleware of the stack's `deserialize` step, which runs once per attempt. */
type AttemptMiddleware = (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>;

/** How a request is sent. */
export interface SendOptions {
  /** Runs before every attempt the SDK makes (retries included); its error stops the request. */
  guard?: () => void;
  /**
   * Skips the queue of the connection's requests: for the stage lock's few
   * requests, so that a heartbeat never waits behind a deploy's writes.
   */
  urgent?: boolean;
}

/** How long `createTable` waits for a new table to become ACTIVE. */
const ACTIVE_WITHIN_MS = 5 * 60_000;

/** The table of a store, through one connection. */
export class DynamoDBTable {
  #region: string | undefined;

  constructor(
    readonly connection: DynamoDBConnection,
    readonly name: string,
    readonly options: { region?: string; endpoint?: string; createTable: boolean; credentialsFrom?: CredentialsFrom; profile?: string },
  ) {}

  /** Where the table is, and where the credentials came from, for messages. */
  get place(): TablePlace {
    const { endpoint, credentialsFrom, profile } = this.options;
    const region = this.options.region ?? this.#region;
    const cli = `${region ? ` --region ${region}` : ""}${endpoint ? ` --endpoint-url ${endpoint}` : ""}`;
    return { table: this.name, region, endpoint, cli, ...(credentialsFrom && { credentialsFrom }), ...(profile !== undefined && { profile }) };
  }

  /**
   * Resolves once the table exists, is ACTIVE and has the key schema the
   * store needs; creates it first when `createTable` is set. Checked once
   * per connection and table.
   *
   * @throws StateStoreError naming the table and the command that creates it, or what is wrong with it.
   */
  async ready(): Promise<void> {
    const tables = this.connection.tables;
    let ready = tables.get(this.name);
    if (ready === undefined) {
      ready = this.#prepare();
      tables.set(this.name, ready);
      ready.catch(() => tables.get(this.name) === ready && tables.delete(this.name)); // look again next time
    }
    this.#region = await ready;
  }

  /**
   * Sends the command `make` builds. A failed ConditionExpression is thrown
   * as the SDK's ConditionalCheckFailedException, for the caller to judge;
   * any other failure as a {@link StateStoreError} saying what was being
   * done where.
   */
  async send<C extends Command>(doing: string, location: string, make: (sdk: DynamoDBSdk) => C, options: SendOptions = {}): Promise<Output<C>> {
    const { guard, urgent = false } = options;
    const command = make(this.connection.sdk);
    if (guard !== undefined) {
      const stack = command.middlewareStack as unknown as { add(middleware: AttemptMiddleware, options: object): void };
      stack.add((next) => async (args) => (guard(), next(args)), { step: "deserialize", priority: "low", name: "alchemyLeaseGuard" });
    }
    try {
      const request = () => this.connection.client.send(command as never) as Promise<Output<C>>;
      return await (urgent ? request() : this.connection.slot(request));
    } catch (error) {
      if (isConditionFailed(error) || error instanceof AlchemyError) throw error;
      throw awsError(error, this.place, doing, location);
    }
  }

  /** The pages of a Query (strongly consistent), until the last. */
  async *query(doing: string, location: string, input: Omit<QueryCommandInput, "TableName">): AsyncGenerator<QueryCommandOutput> {
    let start: Item | undefined;
    do {
      const page = await this.send(doing, location, (sdk) => new sdk.QueryCommand({ ...input, TableName: this.name, ConsistentRead: true, ExclusiveStartKey: start }));
      yield page;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }

  async #prepare(): Promise<string | undefined> {
    const location = `dynamodb://${this.name}`;
    const region = await this.connection.client.config.region().catch((error: unknown) => {
      throw awsError(error, this.place, "find the AWS region", location);
    });
    this.#region = region;
    let table = await this.#describe();
    if (table === undefined) {
      if (!this.options.createTable) throw missingTable(this.place);
      table = await this.#create();
    }
    this.#checkSchema(table);
    const deadline = Date.now() + ACTIVE_WITHIN_MS;
    for (let pause = 100; table?.TableStatus !== "ACTIVE" && table?.TableStatus !== "UPDATING"; pause = Math.min(pause * 2, 2_000)) {
      if (table === undefined) throw missingTable(this.place); // deleted meanwhile
      if (Date.now() > deadline) {
        throw new StateStoreError(
          `The DynamoDB ${describeTable(this.place)} is still ${table.TableStatus} after ${ACTIVE_WITHIN_MS / 60_000} minutes. ` +
            `See its status with aws dynamodb describe-table --table-name ${this.name}${this.place.cli}, and run again once it is ACTIVE.`,
          location,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      table = await this.#describe();
    }
    return region;
  }

  /** The table's description, or undefined when there is no such table. */
  async #describe(): Promise<TableDescription | undefined> {
    try {
      const described = await this.connection.slot(() => this.connection.client.send(new this.connection.sdk.DescribeTableCommand({ TableName: this.name })));
      return described.Table;
    } catch (error) {
      if ((error as { name?: string }).name === "ResourceNotFoundException") return undefined;
      throw awsError(error, this.place, "look up the table", `dynamodb://${this.name}`);
    }
  }

  /** Creates the table on demand capacity; another process creating it at the same time is fine. */
  async #create(): Promise<TableDescription | undefined> {
    const { sdk, client } = this.connection;
    try {
      const created = await this.connection.slot(() =>
        client.send(
          new sdk.CreateTableCommand({
            TableName: this.name,
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
            KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
          }),
        ),
      );
      return created.TableDescription;
    } catch (error) {
      if ((error as { name?: string }).name === "ResourceInUseException") return this.#describe();
      throw awsError(error, this.place, "create the table", `dynamodb://${this.name}`);
    }
  }

  #checkSchema(table: TableDescription | undefined): void {
    const keys = table?.KeySchema ?? [];
    const typeOf = (name: string) => table?.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
    const hash = keys.find((k) => k.KeyType === "HASH")?.AttributeName;
    const range = keys.find((k) => k.KeyType === "RANGE")?.AttributeName;
    if (table === undefined || (hash === "pk" && range === "sk" && typeOf("pk") === "S" && typeOf("sk") === "S")) return;
    const found = keys.map((k) => `${k.AttributeName} (${k.KeyType}, ${typeOf(k.AttributeName ?? "") ?? "?"})`).join(", ");
    throw new StateStoreError(
      `The DynamoDB ${describeTable(this.place)} has the key schema ${found || "(none)"}, but the state store needs a string partition key "pk" and a string sort key "sk". ` +
        `Keep the state in a table of its own, e.g. one made with:\n  ${createTableCommand({ ...this.place, table: `${this.name}-state` })}`,
      `dynamodb://${this.name}`,
    );
  }
}
