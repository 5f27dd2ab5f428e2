/**
 * Sealing converted records for the stage they go to: the stage gets a key of
 * its own (derived from the password with a fresh salt, kept in the stage's
 * metadata as every stage's first key is) and every {@link Secret} becomes
 * an envelope bound to its record and field, exactly as a deploy stores it.
 *
 * @module
 */
import { newKey, seal } from "../../core/secrets/secret-box.js";
import { needsSealing, sealState } from "../../core/secrets/secret-codec.js";
import type { SecretsMeta } from "../../core/secrets/stage-secrets.js";
import type { StageRecord } from "../stage-copy.js";
import type { StageMeta } from "../state-store.js";

/** Records ready to write, and the stage metadata that opens them. */
export interface SealedStage {
  records: StageRecord[];
  /** `meta` with the stage's new key, or `meta` as given when no record holds a secret. */
  meta: StageMeta | undefined;
  /** The id of the new key, when one was made. */
  keyId?: string;
}

/**
 * Seals every secret of `records` under a new key of stage `stagePath`
 * (`app/stage`) made from `password`; `meta` (the target stage's metadata
 * so far) keeps its other entries.
 *
 * @example
 * const { records, meta } = await sealImported(conversion.records, "storefront/prod", password, undefined);
 */
export async function sealImported(records: StageRecord[], stagePath: string, password: string | undefined, meta: StageMeta | undefined): Promise<SealedStage> {
  if (!records.some((r) => needsSealing(r.state))) return { records, meta };
  if (!password) throw new TypeError("sealImported: records hold secrets but no password was given");
  const { record, key } = await newKey(password, stagePath);
  const secrets: SecretsMeta = { current: record.id, keys: [record] };
  return {
    records: records.map(({ chain, state }) => ({ chain, state: needsSealing(state) ? sealState(state, (text, ad) => seal(key, text, ad)) : state })),
    meta: { ...meta, secrets },
    keyId: record.id,
  };
}
