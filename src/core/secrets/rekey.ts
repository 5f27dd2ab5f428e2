/**
 * Re-keying a stage: every secret of every record moves to a key derived from
 * a new password. Crash-safe by construction:
 * 1. the new key is added to the stage's metadata beside the old one
 *    (`rekeyingTo`), durably, before any record changes;
 * 2. each record is re-sealed under the new key in one atomic write;
 * 3. the old key is dropped from the metadata.
 * Killed anywhere, every record is sealed under the old or the new key, both
 * listed in the metadata; running it again with both passwords finishes.
 *
 * @module
 */
import { readStage, StoreSession } from "../../state/stage-copy.js";
import type { StageMeta, State, StateStore, StateStoreFactory } from "../../state/state-store.js";
import { newKey, open, openKey, seal, type DerivedKey } from "./secret-box.js";
import { isSealed, openState, sealState } from "./secret-codec.js";
import { nestedStoresOf } from "../nested-stores.js";
import { SecretError } from "./secret-error.js";
import type { SecretsMeta } from "./stage-secrets.js";

/** What a re-key did. */
export interface RekeyOutcome {
  /** Records whose values were re-sealed in this run. */
  resealed: number;
  /** Records that were already under the new key (an earlier run got that far). */
  alreadyDone: number;
  keyId: string;
}

/**
 * Moves every secret of `app/stage` to a key made from `newPassword`. The
 * caller holds the stage's lock and passes the stage scope's store (opened).
 * Refused, before anything changes, for a stage whose metadata lists nested
 * scopes on other stores: their values are out of this store's reach.
 */
export async function rekeyStage(
  factory: StateStoreFactory,
  stageStore: StateStore,
  stagePath: string,
  oldPassword: string,
  newPassword: string,
): Promise<RekeyOutcome> {
  const stage = stagePath.split("/")[1];
  if (!stageStore.getStageMeta || !stageStore.setStageMeta) {
    throw new SecretError(`The state store of stage "${stage}" cannot keep stage metadata, so it holds no secrets to re-key.`, "no-store-support");
  }
  const meta: StageMeta = (await stageStore.getStageMeta()) ?? {};
  const secrets = meta.secrets as SecretsMeta | undefined;
  if (!secrets) throw new SecretError(`Stage "${stage}" (${stagePath}) has no secrets: nothing to re-key.`, "undecryptable");
  const elsewhere = Object.keys(nestedStoresOf(meta));
  if (elsewhere.length > 0) {
    throw new SecretError(
      `Stage "${stage}" (${stagePath}) keeps records in nested scopes on other state stores (${elsewhere.join(", ")}), which a re-key of this store cannot reach: ` +
        "their secrets would no longer open once the old key is dropped. Nothing was changed. Destroy those scopes, or keep them in the stage's store, before re-keying.",
      "no-store-support",
    );
  }

  // 1. The keys: every existing one either password opens, and the target.
  const keys = new Map<string, DerivedKey>();
  for (const record of secrets.keys) {
    const key = (await openKey(oldPassword, record, stagePath)) ?? (await openKey(newPassword, record, stagePath));
    if (key) keys.set(record.id, key);
  }
  let target = secrets.rekeyingTo ? keys.get(secrets.rekeyingTo) : undefined;
  if (secrets.rekeyingTo && !target) {
    throw new SecretError(`An unfinished re-key of stage "${stage}" moves to key ${secrets.rekeyingTo}, which the new password does not open. Use the same new password as the interrupted run.`, "wrong-password");
  }
  if (!keys.has(secrets.current) && !target) {
    throw new SecretError(`Wrong password for the secrets of stage "${stage}" (${stagePath}): the old password does not open its key ${secrets.current}. Nothing was changed.`, "wrong-password");
  }
  if (!target) {
    const made = await newKey(newPassword, stagePath);
    target = made.key;
    keys.set(made.record.id, made.key);
    await stageStore.setStageMeta({ ...meta, secrets: { ...secrets, keys: [...secrets.keys, made.record], rekeyingTo: made.record.id } });
  }

  // 2. Every record, one atomic write each.
  let resealed = 0;
  let alreadyDone = 0;
  const [app, stageName] = stagePath.split("/") as [string, string];
  const session = new StoreSession(factory);
  try {
    for (const { chain, state } of await readStage(session, app, stageName)) {
      if (!isSealed(state)) continue;
      if (onlyUnder(state, target.id)) {
        alreadyDone++;
        continue;
      }
      const opened = openState(state, (envelope, ad, where) => {
        for (const key of keys.values()) {
          const text = open(key, envelope, ad);
          if (text !== undefined) return text;
        }
        throw new SecretError(`Cannot decrypt ${where.path} of "${where.fqn}" with either password; nothing more was changed. Restore the record, or remove it with \`alchemy state rm\`.`, "undecryptable");
      });
      await (await session.open(chain)).set(state.id, sealState(opened, (text, ad) => seal(target!, text, ad)));
      resealed++;
    }
  } finally {
    await session.close();
  }

  // 3. Only the new key remains.
  const finalMeta: StageMeta = (await stageStore.getStageMeta()) ?? {};
  const record = (finalMeta.secrets as SecretsMeta).keys.find((k) => k.id === target!.id)!;
  await stageStore.setStageMeta({ ...finalMeta, secrets: { current: target.id, keys: [record] } satisfies SecretsMeta });
  return { resealed, alreadyDone, keyId: target.id };
}

/** True when every envelope of `state` names key `id`. */
function onlyUnder(state: State, id: string): boolean {
  return !/"@secret":"v1\.([0-9a-f]+)\./.test(JSON.stringify(state).replaceAll(`"@secret":"v1.${id}.`, ""));
}
