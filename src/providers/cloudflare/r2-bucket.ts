/**
 * A Cloudflare R2 bucket (object storage).
 *
 * @module
 */
import { currentScope } from "../../core/context.js";
import type { Context } from "../../core/handler-context.js";
import { Resource } from "../../core/resource.js";
import type { BackendMode, R2Object } from "./backend.js";
import { backendOf, deleteRecorded, checkSwitch, ensureLocal, madeBy, modeOf, readRecorded, type Recorded } from "./backend-of.js";
import { nameOf, R2_BUCKET_NAME } from "./names.js";
import { withMethods } from "./output-methods.js";

/** Props of an {@link R2Bucket}. */
export interface R2BucketProps {
  /** The bucket's name; another name is another bucket (a replacement). @default derived from app, scopes, id and stage */
  name?: string;
  /** Where the bucket should live (remote only), e.g. "weur". */
  locationHint?: string;
  /** Data residency (remote only), e.g. "eu"; another one is another bucket. */
  jurisdiction?: string;
  /**
   * Delete the bucket's objects with it. Without it, deleting a bucket that
   * holds objects fails and the bucket stays in state.
   * @default false
   */
  empty?: boolean;
}

/** Output of an {@link R2Bucket}. */
export interface R2Bucket {
  name: string;
  jurisdiction?: string;
  backend: BackendMode;
}

/** What a program can do with a bucket it declared. */
export interface R2BucketMethods {
  get(key: string): Promise<R2Object | null>;
  put(key: string, value: string | Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  list(options?: { prefix?: string }): Promise<string[]>;
}

const R2BucketResource = Resource(
  "cloudflare::R2Bucket",
  {
    replaceOnChanges: ["name", "jurisdiction"],
    // Name and jurisdiction are what finds it, and its location is fixed at creation: only whether it exists.
    read(this: Context<R2Bucket, R2BucketProps & Recorded>): Promise<R2Bucket> {
      return readRecorded(this, { kind: "r2", name: this.output.name, jurisdiction: this.output.jurisdiction }, () => this.output);
    },
  },
  async function (this: Context<R2Bucket, R2BucketProps & Recorded>, id: string, props: R2BucketProps & Recorded): Promise<R2Bucket> {
    const backend = await backendOf(this.scope, this.fqn, this.phase);
    // In the delete phase `props` are the recorded ones: the `empty` the bucket was last deployed with.
    if (this.phase === "delete") return deleteRecorded(this, backend, (output) => backend.deleteR2Bucket(output, { empty: props?.empty ?? false }));
    checkSwitch(this.output, backend.mode, this.fqn);
    const name = nameOf(this.fqn, props?.name, R2_BUCKET_NAME, this.phase === "update" ? "update" : "create");
    const output: R2Bucket = { name, ...(props?.jurisdiction ? { jurisdiction: props.jurisdiction } : {}), backend: backend.mode };
    if (madeBy(this.output, backend.mode)) return output;
    await backend.createR2Bucket(name, { locationHint: props?.locationHint, jurisdiction: props?.jurisdiction, adopt: this.adopt });
    return output;
  },
);

/**
 * An R2 bucket. Bind it to a Worker (`bindings: { ASSETS: bucket }`), or use
 * it from the program: `await bucket.put("a.txt", "hi")`, `await (await bucket.get("a.txt"))?.text()`.
 *
 * @example
 * const assets = await R2Bucket("site-assets");
 */
export async function R2Bucket(id: string, props: R2BucketProps = {}): Promise<R2Bucket & R2BucketMethods> {
  const scope = currentScope();
  const output = await R2BucketResource(id, { ...props, backend: modeOf(scope) });
  await ensureLocal(scope, `${scope?.path}/${id}`, output, (backend) => backend.createR2Bucket(output.name, { jurisdiction: output.jurisdiction, adopt: true }));
  return withMethods(output, () => `${scope?.path}/${id}`, (backend) => ({
    get: async (key: string) => (await backend()).r2Get(output, key),
    put: async (key: string, value: string | Uint8Array) => (await backend()).r2Put(output, key, value),
    delete: async (key: string) => (await backend()).r2Delete(output, key),
    list: async (options?: { prefix?: string }) => (await backend()).r2List(output, options),
  }));
}
R2Bucket.kind = R2BucketResource.kind;
