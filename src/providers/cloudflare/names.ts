/**
 * Physical names of Cloudflare resources: derived from the application, the
 * nested scopes, the resource id and the stage, so that two stages (or two
 * applications, or two scopes) never collide in one account, and the name says
 * where it comes from. A `name` prop overrides it.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { ResourceError } from "../../core/errors.js";

/** What a kind of Cloudflare resource accepts as a name. */
export interface NameRule {
  /** Longest name the API accepts. */
  max: number;
  /** What the kind is called in messages, e.g. "Worker". */
  kind: string;
}

/** Workers, R2 buckets and queues: lowercase letters, digits and dashes. */
export const WORKER_NAME: NameRule = { max: 63, kind: "Worker" };
export const R2_BUCKET_NAME: NameRule = { max: 63, kind: "R2 bucket" };
export const QUEUE_NAME: NameRule = { max: 63, kind: "queue" };
export const D1_NAME: NameRule = { max: 64, kind: "D1 database" };
export const KV_TITLE: NameRule = { max: 512, kind: "KV namespace" };

/**
 * The name of the resource `fqn` (`app/stage/nested.../id`):
 * `<app>-<nested...>-<id>-<stage>`, lowercased, every run of other characters
 * made one dash; cut to the rule's length with a hash of the whole name when
 * longer, so that it stays unique.
 *
 * @example
 * physicalName("my-app/pr-123/api-worker", WORKER_NAME);      // "my-app-api-worker-pr-123"
 * physicalName("my-app/alice/api/api-worker", WORKER_NAME);   // "my-app-api-api-worker-alice"
 */
export function physicalName(fqn: string, rule: NameRule): string {
  const [app, stage, ...rest] = fqn.split("/");
  const full = slug([app, ...rest, stage].join("-"));
  if (full.length <= rule.max) return full;
  const hash = createHash("sha256").update(fqn).digest("hex").slice(0, 8);
  return `${full.slice(0, rule.max - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** The `name` prop if given (checked against the rule), else {@link physicalName}. */
export function nameOf(fqn: string, given: string | undefined, rule: NameRule, operation: "create" | "update" | "delete" | "read"): string {
  if (given === undefined) return physicalName(fqn, rule);
  if (typeof given !== "string" || given.length === 0 || given.length > rule.max) {
    throw new ResourceError(
      `The name of ${rule.kind} ${fqn} must be a string of 1 to ${rule.max} characters, got ${JSON.stringify(given)}. ` +
        "Fix the name prop, or leave it out to use the derived name.",
      fqn,
      operation,
    );
  }
  if (rule !== KV_TITLE && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(given)) {
    throw new ResourceError(
      `The name of ${rule.kind} ${fqn} may hold only lowercase letters, digits and dashes (not at either end), got ${JSON.stringify(given)}. ` +
        "Fix the name prop, or leave it out to use the derived name.",
      fqn,
      operation,
    );
  }
  return given;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
}
