/**
 * alchemy: infrastructure as TypeScript. Scopes, resources, and state you can trust.
 *
 * @example
 * import alchemy, { Resource } from "alchemy";
 * const app = await alchemy("my-app");
 * await alchemy.run("backend", async () => { ... });
 * await app.finalize();
 *
 * @module
 */
import { alchemy } from "./core/alchemy.js";

export { alchemy };
/** `alchemy.secret` as a named import: `import { secret } from "alchemy"`. */
export const secret = alchemy.secret;
export { Secret, isSecret, SecretError } from "./core/secrets/index.js";
export { Credentials, ProfileError, type CredentialOverride } from "./core/profiles/index.js";
export default alchemy;
export type { Alchemy } from "./core/alchemy.js";
export { Application } from "./core/application.js";
export { Scope, isScope, type ScopeKind } from "./core/scope.js";
export {
  Resource,
  type ResourceFactory,
  type ResourceHandler,
  type ResourceLifecycle,
  type ResourceOptions,
  type PlanContext,
} from "./core/resource.js";
export type { Context, HandlerPhase } from "./core/handler-context.js";
export type { AlchemyOptions, RunOptions, Phase, DestroyStrategy } from "./core/options.js";
export { formatSummary, type RunEvent, type RunSummary, type ResourceAction } from "./core/events.js";
export type { PropChange } from "./core/props.js";
export { driftLine, isDrift, type Drift, type DriftStatus } from "./core/drift.js";
export { isResourceOutput, Unknown } from "./core/output.js";
export {
  AlchemyError,
  ScopeError,
  StateStoreError,
  ResourceError,
  InterruptedError,
  DestroyError,
  UnstorableValueError,
  OptionConflictError,
  DestroyCancelledError,
  ProtectedResourceError,
  MassDeletionError,
  type DeleteFailure,
} from "./core/errors.js";
export { TestCleanupError } from "./testing/test-cleanup-error.js";
export type { TestScopeOptions, TestScopeFunction, ScopedTest, ScopedTestFunction } from "./testing/test-scope.js";
export type { State, StateStore, StateStoreFactory, StateStoreScope, ResourceStatus } from "./state/state-store.js";
