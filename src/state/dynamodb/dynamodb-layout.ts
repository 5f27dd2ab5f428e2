/**
 * Where each item of the DynamoDB state store lives: its partition key `pk`
 * and sort key `sk` (both strings), and how the store names an item in
 * messages.
 *
 * - A record: pk `<app>/<stage>`, sk `/` + one `<scope>/` per scope below
 *   the stage + `:` + id. `/:api` is the stage's record "api",
 *   `/backend/jobs/:worker` the record "worker" of scope backend/jobs.
 * - The stage's lock: sk `~lock`; its metadata: sk `~meta`; its history:
 *   sk `~history/<run>` and `~snapshot/<run>/<n>` (see `dynamodb-history.ts`).
 * - The stage registry: pk `~stages`, sk `<app>/<stage>`, one item per stage
 *   that ever held a record (see `dynamodb-stage-registry.ts`).
 *
 * Why this shape: names hold only letters, digits, marks, `-`, `_` and `.`
 * (`core/names.ts`), so `/`, `:` and `~` never occur inside one. The records
 * of a scope are exactly the keys beginning with its prefix plus `:`, a
 * nested scope's keys continue the prefix with a name instead: one Query
 * with `begins_with(sk, "/backend/:")` lists that scope and nothing nested.
 * Every key below a scope's prefix that is not its own record belongs to a
 * child scope, so `listScopes` walks the children in key order and skips
 * each one's records at once (`/backend/` is followed by `/backend0`, the
 * next key after all of "backend"'s). Only record keys begin with `/`:
 * the lock and the metadata are never listed, and a stage holds records
 * exactly when some key of its partition begins with `/`.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";

/** The partition of the stage registry; no `<app>/<stage>` can equal it. */
export const REGISTRY_PK = "~stages";
/** The sort key of a stage's lock item. */
export const LOCK_SK = "~lock";
/** The sort key of a stage's metadata item. */
export const META_SK = "~meta";
/** DynamoDB's limit on a sort key, in UTF-8 bytes. */
const MAX_SK_BYTES = 1024;

/**
 * The keys of one scope of the store in one table.
 *
 * @example
 * const keys = new DynamoDBKeys("state", ["app", "dev", "backend"]);
 * keys.pk; // "app/dev"
 * keys.recordSk("db"); // "/backend/:db"
 */
export class DynamoDBKeys {
  /** `<app>/<stage>`; undefined above a stage (an application or the root). */
  readonly pk: string | undefined;
  /** Prefix of every key of this scope and below it, e.g. `/backend/`; `/` for the stage. */
  readonly scopePrefix: string;
  /** Prefix of this scope's own records, e.g. `/backend/:`. */
  readonly recordPrefix: string;

  constructor(
    readonly table: string,
    readonly chain: readonly string[],
  ) {
    this.pk = chain.length >= 2 ? `${chain[0]}/${chain[1]}` : undefined;
    this.scopePrefix = `/${chain.slice(2).map((name) => `${name}/`).join("")}`;
    this.recordPrefix = `${this.scopePrefix}:`;
  }

  /** The scope path, `app/dev/backend`, or `/` for the root. */
  get path(): string {
    return this.chain.join("/") || "/";
  }

  /**
   * The sort key of record `id` of this scope.
   *
   * @throws StateStoreError when the key would be longer than DynamoDB allows (a very deep scope with long names).
   */
  recordSk(id: string): string {
    const sk = this.recordPrefix + id;
    const bytes = Buffer.byteLength(sk, "utf8");
    if (bytes > MAX_SK_BYTES) {
      throw new StateStoreError(
        `Cannot store record "${this.chain.join("/")}/${id}" in ${this.location()}: its sort key "${sk.slice(0, 80)}…" is ${bytes} bytes, ` +
          `more than the ${MAX_SK_BYTES} DynamoDB allows. Use shorter scope names or ids, or fewer nested scopes.`,
        this.location(),
      );
    }
    return sk;
  }

  /** The id of the record whose sort key is `sk`, when it is a record of this scope. */
  idOf(sk: string): string | undefined {
    return sk.startsWith(this.recordPrefix) ? sk.slice(this.recordPrefix.length) : undefined;
  }

  /** The child scope a key below this scope belongs to, or undefined for this scope's own records and keys outside it. */
  childOf(sk: string): string | undefined {
    if (!sk.startsWith(this.scopePrefix) || sk.startsWith(this.recordPrefix)) return undefined;
    const rest = sk.slice(this.scopePrefix.length);
    const end = rest.indexOf("/");
    return end > 0 ? rest.slice(0, end) : undefined;
  }

  /** The first key after every key of child `name` (`/` + 1 is `0`). */
  afterChild(name: string): string {
    return `${this.scopePrefix}${name}0`;
  }

  /** The first key after every record of this scope (`:` + 1 is `;`). */
  get afterRecords(): string {
    return `${this.scopePrefix};`;
  }

  /** `dynamodb://table pk=app/dev sk=/:api`, or of the scope when `sk` is omitted: where an item is, for messages. */
  location(sk?: string): string {
    return itemLocation(this.table, this.pk ?? this.path, sk);
  }

  /** The AWS CLI command that deletes the item `sk` of this stage. */
  deleteCommand(sk: string, cli: string): string {
    return deleteItemCommand(this.table, this.pk ?? this.path, sk, cli);
  }
}

/** `dynamodb://table pk=... sk=...`: where an item is, for messages. */
export function itemLocation(table: string, pk: string, sk?: string): string {
  return `dynamodb://${table} pk=${pk}${sk === undefined ? "" : ` sk=${sk}`}`;
}

/**
 * `aws dynamodb delete-item --table-name ... --key '...'` for the item (pk, sk).
 *
 * @param cli the options that point the AWS CLI at the table, e.g. ` --region eu-west-1`
 */
export function deleteItemCommand(table: string, pk: string, sk: string, cli: string): string {
  const key = JSON.stringify({ pk: { S: pk }, sk: { S: sk } }).replace(/'/g, "'\\''");
  return `aws dynamodb delete-item --table-name ${table}${cli} --key '${key}'`;
}
