/**
 * Which {@link CloudflareBackend} a run's Cloudflare resources use: the local
 * runtime (Miniflare) when the run is local (`local: true`, `--local`,
 * `alchemy dev`, `ALCHEMY_LOCAL=1`), else the Cloudflare API. Decided once per
 * run, here; resources never look at flags.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { ResourceError } from "../../core/errors.js";
import type { ServiceKey } from "../../core/services.js";
import type { Context, HandlerPhase } from "../../core/handler-context.js";
import type { Scope } from "../../core/scope.js";
import type { BackendMode, CloudflareBackend, ExistingResource, FoundResource } from "./backend.js";
import { localRuntimeService } from "./local/local-service.js";
import { CloudflareApi } from "./remote/api-client.js";
import { cloudflareCredentials, type CloudflareCredentials } from "./remote/credentials.js";
import { RemoteBackend } from "./remote/remote-backend.js";
import { describeRetry } from "./remote/retry-policy.js";

/** The remote backends of a run, one per set of credentials (by a hash of them; scopes may override the profile's). */
const remoteBackends: ServiceKey<Map<string, RemoteBackend>> = {
  name: "the Cloudflare API clients of the run",
  start: async () => new Map(),
  stop: async (map) => map.clear(),
  report(map) {
    if (map.size === 0) return {};
    const total = { requests: 0, retries: 0, waitedMs: 0 };
    for (const backend of map.values()) {
      const stats = backend.api.stats;
      total.requests += stats.requests;
      total.retries += stats.retries;
      total.waitedMs += Math.round(stats.waitedMs);
    }
    return { cloudflareApi: total };
  },
};

/** The backend of the run `scope` belongs to. */
export async function backendOf(scope: Scope, fqn: string, operation: HandlerPhase): Promise<CloudflareBackend> {
  const run = scope.context;
  if (run.options.local) return run.service(localRuntimeService);
  let credentials: CloudflareCredentials;
  try {
    const from = scope.credentials.overriddenProviders.includes("cloudflare") ? "program" : "profile";
    credentials = cloudflareCredentials(scope.credentials.tryFor("cloudflare"), process.env, scope.credentials.profile, from);
  } catch (error) {
    throw new ResourceError(`${fqn}: ${(error as Error).message} Or run locally on Miniflare: alchemy dev, alchemy deploy --local.`, fqn, operation, { cause: error });
  }
  const key = createHash("sha256").update(JSON.stringify([credentials.baseUrl, credentials.accountId ?? null, credentials.authHeaders()])).digest("hex");
  const backends = await run.service(remoteBackends);
  let backend = backends.get(key);
  if (backend === undefined) {
    backend = new RemoteBackend(new CloudflareApi({ credentials, onRetry: (event) => run.warn(describeRetry(event)) }));
    backends.set(key, backend);
  }
  return backend;
}

/**
 * The delete phase of a Cloudflare resource: `remove` deletes what the record's
 * output names, then the record goes. A record without output (a create that
 * never finished) has nothing to delete. Refuses a record another backend
 * made: a local run never calls the Cloudflare API, and a remote run never
 * takes a local record for a cloud resource.
 */
export async function deleteRecorded<Output extends { backend?: BackendMode }>(
  ctx: Pick<Context<Output, unknown>, "output" | "fqn" | "destroy">,
  backend: CloudflareBackend,
  remove: (output: Output) => Promise<unknown>,
): Promise<never> {
  const recorded = ctx.output;
  if (recorded !== undefined) {
    if (recorded.backend !== undefined && recorded.backend !== backend.mode) {
      throw new ResourceError(
        recorded.backend === "local"
          ? `${ctx.fqn} was made locally (Miniflare), and this run deploys to Cloudflare: it cannot delete it. Delete it with a local run (alchemy destroy --local), or forget the record (alchemy state rm ${ctx.fqn}).`
          : `${ctx.fqn} was deployed to Cloudflare, and this run is local: it never calls the Cloudflare API. Delete it with a run that is not local (alchemy destroy, without --local), or forget the record (alchemy state rm ${ctx.fqn}).`,
        ctx.fqn,
        "delete",
      );
    }
    await remove(recorded);
  }
  return ctx.destroy();
}

/** True when the recorded output was made by `backend` (so an update may change it in place). */
export function madeBy(output: { backend?: BackendMode } | undefined, backend: BackendMode): boolean {
  return output !== undefined && output.backend === backend;
}

/**
 * In a local deploy, makes sure the local runtime of this process holds a
 * resource whose handler was skipped (its props unchanged): the runtime lives
 * only as long as the process, the resource's data on disk. Creating again is
 * idempotent locally. Does nothing in other phases and in remote runs.
 */
export async function ensureLocal(scope: Scope | undefined, fqn: string, output: { backend: BackendMode }, ensure: (backend: CloudflareBackend) => Promise<unknown>): Promise<void> {
  if (scope === undefined || scope.phase !== "up" || !scope.context.options.local || output.backend !== "local") return;
  await ensure(await backendOf(scope, fqn, "update"));
}

/** What every Cloudflare resource records in its props besides the user's: the backend it was deployed to. */
export interface Recorded {
  backend?: BackendMode;
}

/**
 * The read of a recorded resource (`alchemy read`, refreshes): `this.gone()`
 * when the API no longer has it, else `compare(found)` with what the API says
 * now, which returns the output as recorded or calls `this.observed(output,
 * props)` with what differs. A record of the other backend is left as
 * recorded (the run deploys another one in its place), and so is every local
 * record: the local runtime has no control plane to ask.
 *
 * @example
 * return readRecorded(this, { kind: "kv", id: this.output.id }, (found) =>
 *   found.title === this.output.title ? this.output : this.observed({ ...this.output, title: found.title }, { ...this.props, title: found.title }));
 */
export async function readRecorded<Output extends { backend: BackendMode }, R extends ExistingResource>(
  ctx: { scope: Scope; fqn: string; output: Output; gone(): never },
  resource: R,
  compare: (found: Extract<FoundResource, { kind: R["kind"] }>) => Output,
): Promise<Output> {
  const backend = await backendOf(ctx.scope, ctx.fqn, "read");
  if (ctx.output.backend !== backend.mode || backend.find === undefined) return ctx.output;
  const found = await backend.find(resource);
  return found === undefined ? ctx.gone() : compare(found);
}

/**
 * The backend a run deploys to, recorded in each resource's props: a run on
 * the other backend sees a change (plan shows `backend: "local" -> "remote"`),
 * so its handler runs instead of the engine handing back the other backend's output.
 */
export function modeOf(scope: Scope | undefined): BackendMode {
  return scope?.context.options.local ? "local" : "remote";
}

/**
 * Refuses to create or update, locally, a resource deployed to Cloudflare: a
 * local run never calls the API, and making a local one in its place would
 * drop the cloud resource from state while it keeps running. A local record in
 * a remote run is fine: the cloud resource is made.
 */
export function checkSwitch(recorded: { backend?: BackendMode } | undefined, backend: BackendMode, fqn: string): void {
  if (recorded?.backend !== "remote" || backend !== "local") return;
  throw new ResourceError(
    `${fqn} is deployed to Cloudflare, and this run is local: it never calls the Cloudflare API, and a local copy in its place would drop ` +
      "the cloud resource from state while it keeps running. Run locally on another stage (alchemy dev --stage <name>), " +
      `or destroy the stage without --local first.`,
    fqn,
    "update",
  );
}
