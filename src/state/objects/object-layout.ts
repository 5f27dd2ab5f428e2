/**
 * Where a state store in a bucket (`object-state-store.ts`) keeps what, as
 * object keys below an optional prefix:
 *
 * ```
 * <prefix>/<app>/<stage>/<id>.json              a record of the stage scope
 * <prefix>/<app>/<stage>/<nested...>/<id>.json  a record of a nested scope
 * <prefix>/<app>/<stage>/~stage.json            the stage's metadata
 * <prefix>/<app>/<stage>/~lock.json             the stage's lock
 * <prefix>/<app>/<stage>/~probe-<uuid>.json     a short-lived conditional-PUT probe
 * <prefix>/<app>/<stage>/~history/<run>.json    an entry of the stage's history (object-history.ts)
 * <prefix>/<app>/<stage>/~history/<run>.snapshot its snapshot
 * ```
 *
 * Reserved names start with `~`, which no record id or scope name may
 * contain, so none can be taken for a record or a scope. A bucket has no
 * directories: a scope exists while an object exists below its prefix.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";

/** Name of the lock object in a stage's prefix. */
export const LOCK_NAME = "~lock.json";
/** Name of the metadata object in a stage's prefix. */
export const STAGE_META_NAME = "~stage.json";
/** The folder of the stage's history in a stage's prefix. */
export const HISTORY_PREFIX = "~history/";
/** Start of a probe object's name in a stage's prefix. */
export const PROBE_PREFIX = "~probe-";

const RECORD_SUFFIX = ".json";

/**
 * The key layout of one bucket and prefix.
 *
 * @example
 * const layout = new ObjectLayout("alchemy/state", "s3://my-bucket");
 * layout.recordKey(["app", "dev", "backend"], "db"); // "alchemy/state/app/dev/backend/db.json"
 * layout.lockKey(["app", "dev"]);                    // "alchemy/state/app/dev/~lock.json"
 */
export class ObjectLayout {
  /** The prefix with a trailing `/`, or `""` for none. */
  readonly root: string;

  /**
   * @throws StateStoreError when `prefix` has an empty, `.` or `..` segment, or a control character.
   */
  /**
   * @param prefix where in the bucket the state lives (`""`: at the top)
   * @param bucketUrl the bucket, for the message about a bad prefix: `s3://my-bucket`
   */
  constructor(prefix: string | undefined, bucketUrl: string) {
    const trimmed = (prefix ?? "").replace(/^\/+|\/+$/g, "");
    const bad = trimmed === "" ? undefined : trimmed.split("/").find((segment) => segment === "" || segment === "." || segment === ".." || /[\u0000-\u001f\u007f]/.test(segment));
    if (bad !== undefined) {
      throw new StateStoreError(
        `The prefix ${JSON.stringify(prefix)} of the state store in ${bucketUrl} has the segment ${JSON.stringify(bad)}: write segments separated by single slashes, without "." or "..", e.g. "alchemy/state".`,
        `${bucketUrl}/${trimmed}`,
      );
    }
    this.root = trimmed === "" ? "" : `${trimmed}/`;
  }

  /** The key prefix of scope `chain` (with a trailing `/`; the root for `[]`). */
  scopePrefix(chain: readonly string[]): string {
    return chain.length === 0 ? this.root : `${this.root}${chain.join("/")}/`;
  }

  /** The key of record `id` of scope `chain`. */
  recordKey(chain: readonly string[], id: string): string {
    return `${this.scopePrefix(chain)}${id}${RECORD_SUFFIX}`;
  }

  /** The key of the lock object of the stage `[app, stage]`. */
  lockKey(stage: readonly string[]): string {
    return `${this.scopePrefix(stage.slice(0, 2))}${LOCK_NAME}`;
  }

  /** The key of the metadata object of the stage `[app, stage]`. */
  metaKey(stage: readonly string[]): string {
    return `${this.scopePrefix(stage.slice(0, 2))}${STAGE_META_NAME}`;
  }

  /** A fresh probe key in the prefix of the stage `[app, stage]`. */
  probeKey(stage: readonly string[], unique: string): string {
    return `${this.scopePrefix(stage.slice(0, 2))}${PROBE_PREFIX}${unique}${RECORD_SUFFIX}`;
  }

  /** The record id a key directly below `scopePrefix` stands for; `undefined` for a reserved or foreign object. */
  idOf(key: string, scopePrefix: string): string | undefined {
    if (!key.startsWith(scopePrefix) || !key.endsWith(RECORD_SUFFIX)) return undefined;
    const name = key.slice(scopePrefix.length, -RECORD_SUFFIX.length);
    return name === "" || name.includes("/") || name.startsWith("~") ? undefined : name;
  }

  /** The child scope name a delimited prefix (`<scopePrefix><name>/`) stands for. */
  childOf(delimited: string, scopePrefix: string): string | undefined {
    if (!delimited.startsWith(scopePrefix) || !delimited.endsWith("/")) return undefined;
    const name = delimited.slice(scopePrefix.length, -1);
    return name === "" || name.includes("/") || name.startsWith("~") ? undefined : name;
  }

  /**
   * Whether `key` is a record of some scope (a stage or below it): at least
   * `<app>/<stage>/<id>.json` under the root, and not a reserved object.
   */
  isRecordKey(key: string): boolean {
    if (!key.startsWith(this.root) || !key.endsWith(RECORD_SUFFIX)) return false;
    const segments = key.slice(this.root.length).split("/");
    // Any reserved segment: `~history/<run>.json` is no record either.
    return segments.length >= 3 && !segments.some((segment) => segment.startsWith("~"));
  }
}
