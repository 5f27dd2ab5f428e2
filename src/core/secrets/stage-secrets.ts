/**
 * The secrets of one stage during one run: its keys (derived from the password
 * once per run, not once per value), kept in the stage's metadata as salt +
 * verifier, and the sealing and opening of record values with them.
 *
 * Stage metadata layout: `{ secrets: { current: "<key id>", keys: KeyRecord[] } }`.
 * A stage gets its first key when it first stores a secret. `alchemy state
 * rekey` adds a key, re-seals every value under it, then drops the old one.
 *
 * @module
 */
import type { StateStore } from "../../state/state-store.js";
import { newKey, open, openKey, seal, envelopeKeyId, type DerivedKey, type KeyRecord } from "./secret-box.js";
import type { Opener, Sealer } from "./secret-codec.js";
import { SecretError } from "./secret-error.js";

/** What the stage's metadata says about its secrets. */
export interface SecretsMeta {
  /** The key new values are sealed with. */
  current: string;
  /** Every key values of the stage may be sealed with (two while a re-key is under way). */
  keys: KeyRecord[];
  /** Set while `alchemy state rekey` moves values to this key. */
  rekeyingTo?: string;
}

export class StageSecrets {
  #meta?: Promise<SecretsMeta | undefined>;
  readonly #keys = new Map<string, Promise<DerivedKey>>();
  #creating?: Promise<DerivedKey>;

  constructor(
    /** `app/stage` */
    private readonly stagePath: string,
    /** The stage scope's store, where the metadata lives. */
    private readonly store: () => StateStore,
    private readonly password: string | undefined,
  ) {}

  private get stage(): string {
    return this.stagePath.split("/")[1]!;
  }

  /**
   * Fails at once on a wrong password: if the stage has secrets and a password
   * was given, its current key is derived and checked against the verifier.
   * `firstSealed` names a value to cite in the error.
   */
  async check(firstSealed: () => Promise<{ fqn: string; path: string } | undefined>): Promise<void> {
    const meta = await this.meta();
    if (!meta || this.password === undefined) return;
    // During an unfinished re-key either password is right for some of the values.
    const opened = await Promise.all(meta.keys.map((k) => this.key(k.id).then(() => true, () => false)));
    if (!opened.some(Boolean)) {
      const first = await firstSealed();
      throw new SecretError(
        `Wrong password for the secrets of stage "${this.stage}" (${this.stagePath}): it does not open the stage's key ${meta.current}` +
          (first ? `, so "${first.fqn}" ${first.path} (the first encrypted value) cannot be decrypted` : "") +
          ". Use the password this stage was deployed with (ALCHEMY_PASSWORD, or the `password` option). Nothing was run or changed.",
        "wrong-password",
      );
    }
  }

  /** Seals values under the stage's current key, making the stage's first key if it has none. */
  async sealer(fqn: string, path: string): Promise<Sealer> {
    if (this.password === undefined) {
      throw new SecretError(
        `"${fqn}" has a secret at ${path}, but no password was given for stage "${this.stage}", so it cannot be stored encrypted. ` +
          "Set ALCHEMY_PASSWORD (or pass `password` to alchemy()), and keep it: the stage's secrets open only with it.",
        "no-password",
      );
    }
    const meta = await this.meta();
    const key = meta ? await this.key(meta.current) : await this.createFirstKey();
    return (plaintext, ad) => seal(key, plaintext, ad);
  }

  /** Opens values under whichever of the stage's keys sealed them. */
  async opener(): Promise<Opener> {
    const meta = await this.meta();
    const keys = new Map<string, DerivedKey>();
    for (const record of meta?.keys ?? []) {
      const key = this.password === undefined ? undefined : await this.key(record.id).catch(() => undefined);
      if (key) keys.set(record.id, key);
    }
    return (envelope, ad, where) => {
      if (this.password === undefined) {
        throw new SecretError(
          `"${where.fqn}" holds an encrypted secret at ${where.path}, but no password was given for stage "${this.stage}". ` +
            "Set ALCHEMY_PASSWORD (or pass `password` to alchemy()) to the password the stage was deployed with.",
          "no-password",
        );
      }
      const id = envelopeKeyId(envelope);
      const key = id === undefined ? undefined : keys.get(id);
      const plaintext = key && open(key, envelope, ad);
      if (plaintext === undefined) {
        throw new SecretError(
          `Cannot decrypt ${where.path} of "${where.fqn}": ` +
            (key
              ? "the password opens the stage's key, but this value was sealed for another record, field or stage, or was altered."
              : id !== undefined && !meta?.keys.some((k) => k.id === id)
                ? `it was sealed with key ${id}, which stage "${this.stage}" no longer records in its metadata, so no password opens it.`
                : `it was sealed with a key (${id ?? "unknown"}) that this password does not open` +
                  (meta?.rekeyingTo ? " (a re-key of the stage is unfinished: run `alchemy state rekey` again with both passwords)." : ".")) +
            " Nothing was changed. Restore the record from a backup, or remove it with `alchemy state rm` and deploy again.",
          "undecryptable",
        );
      }
      return plaintext;
    };
  }

  /** The stage's secrets metadata, read once per run. */
  meta(): Promise<SecretsMeta | undefined> {
    this.#meta ??= (async () => {
      const store = this.store();
      if (!store.getStageMeta) return undefined;
      const meta = await store.getStageMeta();
      return meta?.secrets as SecretsMeta | undefined;
    })();
    return this.#meta;
  }

  private key(id: string): Promise<DerivedKey> {
    let key = this.#keys.get(id);
    if (key === undefined) {
      key = (async () => {
        const record = (await this.meta())?.keys.find((k) => k.id === id);
        if (!record) throw new SecretError(`Stage "${this.stage}" names secrets key ${id} but does not record it; its metadata is damaged.`, "undecryptable");
        const opened = await openKey(this.password!, record, this.stagePath);
        if (!opened) throw new SecretError(`Wrong password for stage "${this.stage}".`, "wrong-password");
        return opened;
      })();
      this.#keys.set(id, key);
    }
    return key;
  }

  private createFirstKey(): Promise<DerivedKey> {
    this.#creating ??= (async () => {
      const store = this.store();
      if (!store.getStageMeta || !store.setStageMeta) {
        throw new SecretError(
          `The state store of stage "${this.stage}" (${store.constructor.name}) cannot keep the metadata that secrets need (getStageMeta/setStageMeta). ` +
            "Use the filesystem, SQLite or PostgreSQL store for a stage with secrets.",
          "no-store-support",
        );
      }
      const { record, key } = await newKey(this.password!, this.stagePath);
      const current = (await store.getStageMeta()) ?? {};
      const secrets: SecretsMeta = { current: record.id, keys: [record] };
      await store.setStageMeta({ ...current, secrets });
      this.#meta = Promise.resolve(secrets);
      this.#keys.set(record.id, Promise.resolve(key));
      return key;
    })();
    return this.#creating;
  }
}
