/**
 * A Cloudflare Workers KV namespace.
 *
 * @module
 */
import { currentScope } from "../../core/context.js";
import type { Context } from "../../core/handler-context.js";
import { Resource } from "../../core/resource.js";
import type { BackendMode } from "./backend.js";
import { backendOf, deleteRecorded, checkSwitch, ensureLocal, madeBy, modeOf, readRecorded, type Recorded } from "./backend-of.js";
import { KV_TITLE, nameOf } from "./names.js";
import { withMethods } from "./output-methods.js";

/** Props of a {@link KVNamespace}. */
export interface KVNamespaceProps {
  /** The namespace's title; changing it renames the namespace in place. @default derived from app, scopes, id and stage */
  title?: string;
}

/** Output of a {@link KVNamespace}. */
export interface KVNamespace {
  id: string;
  title: string;
  backend: BackendMode;
}

/** What a program can do with a namespace it declared. */
export interface KVNamespaceMethods {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
  list(options?: { prefix?: string }): Promise<string[]>;
}

const KVNamespaceResource = Resource(
  "cloudflare::KVNamespace",
  {
    // Renamed outside alchemy: the title as found, in the props too, so that a deploy renames it back.
    read(this: Context<KVNamespace, KVNamespaceProps & Recorded>): Promise<KVNamespace> {
      return readRecorded(this, { kind: "kv", id: this.output.id }, ({ title }) =>
        title === this.output.title ? this.output : this.observed({ ...this.output, title }, { ...this.props, title }),
      );
    },
  },
  async function (this: Context<KVNamespace, KVNamespaceProps & Recorded>, id: string, props: KVNamespaceProps & Recorded): Promise<KVNamespace> {
    const backend = await backendOf(this.scope, this.fqn, this.phase);
    if (this.phase === "delete") return deleteRecorded(this, backend, (output) => backend.deleteKVNamespace(output));
    checkSwitch(this.output, backend.mode, this.fqn);
    const title = nameOf(this.fqn, props?.title, KV_TITLE, this.phase === "update" ? "update" : "create");
    if (madeBy(this.output, backend.mode)) {
      if (this.output.title !== title) await backend.renameKVNamespace(this.output, title);
      return { id: this.output.id, title, backend: backend.mode };
    }
    const { id: namespaceId } = await backend.createKVNamespace(title, { adopt: this.adopt });
    return { id: namespaceId, title, backend: backend.mode };
  },
);

/**
 * A KV namespace. Bind it to a Worker (`bindings: { CACHE: kv }`), or use it
 * from the program: `await kv.put("k", "v")`, `await kv.get("k")`.
 *
 * @example
 * const cache = await KVNamespace("api-cache");
 */
export async function KVNamespace(id: string, props: KVNamespaceProps = {}): Promise<KVNamespace & KVNamespaceMethods> {
  const scope = currentScope();
  const output = await KVNamespaceResource(id, { ...props, backend: modeOf(scope) });
  await ensureLocal(scope, `${scope?.path}/${id}`, output, (backend) => backend.createKVNamespace(output.title, { adopt: true }));
  return withMethods(output, () => `${scope?.path}/${id}`, (backend) => ({
    get: async (key: string) => (await backend()).kvGet(output, key),
    put: async (key: string, value: string, options?: { expirationTtl?: number }) => (await backend()).kvPut(output, key, value, options),
    delete: async (key: string) => (await backend()).kvDelete(output, key),
    list: async (options?: { prefix?: string }) => (await backend()).kvList(output, options),
  }));
}
KVNamespace.kind = KVNamespaceResource.kind;
