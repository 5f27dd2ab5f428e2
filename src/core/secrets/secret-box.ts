/**
 * The cryptography of secrets: AES-256-GCM with a random 96-bit IV per value,
 * a key derived once per run from the password with scrypt (N = 2^15, r = 8,
 * p = 1) and a per-stage salt, and associated data binding each ciphertext to
 * its record and field (a ciphertext copied elsewhere fails to decrypt).
 *
 * Envelope: `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url); the key id
 * names the salt the key was derived from, so a stage being re-keyed can hold
 * values under two keys at once.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt } from "node:crypto";

/** scrypt parameters; stored with each key so they can be raised later. */
export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_KDF: KdfParams = { N: 2 ** 15, r: 8, p: 1 };

/** What the stage keeps about one key: never the key, only how to rederive and check it. */
export interface KeyRecord {
  id: string;
  /** base64url */
  salt: string;
  kdf: KdfParams;
  /** An envelope of a known text under this key: a wrong password fails on it at once. */
  verifier: string;
}

const VERIFIER_TEXT = "alchemy secrets verifier";

/** A derived key and its id. */
export interface DerivedKey {
  id: string;
  key: Buffer;
}

let derivations = 0;

/** How many keys this process derived so far (each costs scrypt's time and memory once). */
export function keyDerivations(): number {
  return derivations;
}

/** Derives the key of `record` from `password` (about 50–150 ms). */
export function deriveKey(password: string, salt: string, kdf: KdfParams): Promise<Buffer> {
  derivations++;
  return new Promise((resolve, reject) =>
    scrypt(password, Buffer.from(salt, "base64url"), 32, { ...kdf, maxmem: 256 * kdf.N * kdf.r }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** A new key: fresh salt, derived from `password`, with its verifier bound to `stagePath`. */
export async function newKey(password: string, stagePath: string): Promise<{ record: KeyRecord; key: DerivedKey }> {
  const salt = randomBytes(16).toString("base64url");
  const id = keyId(salt);
  const key = { id, key: await deriveKey(password, salt, DEFAULT_KDF) };
  return { record: { id, salt, kdf: DEFAULT_KDF, verifier: seal(key, VERIFIER_TEXT, verifierData(stagePath)) }, key };
}

/** The key of `record` from `password`, or `undefined` when the password is not the one it was made with. */
export async function openKey(password: string, record: KeyRecord, stagePath: string): Promise<DerivedKey | undefined> {
  const key = { id: record.id, key: await deriveKey(password, record.salt, record.kdf) };
  return open(key, record.verifier, verifierData(stagePath)) === VERIFIER_TEXT ? key : undefined;
}

/** Encrypts `plaintext` bound to `associatedData`. */
export function seal(key: DerivedKey, plaintext: string, associatedData: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key.key, iv);
  cipher.setAAD(Buffer.from(associatedData));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", key.id, iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
}

/** Decrypts an envelope; `undefined` when the key, the data or the envelope does not match. */
export function open(key: DerivedKey, envelope: string, associatedData: string): string | undefined {
  const parts = envelope.split(".");
  if (parts.length !== 5 || parts[0] !== "v1" || parts[1] !== key.id) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(parts[2]!, "base64url"));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(Buffer.from(parts[4]!, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(parts[3]!, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}

/** The key id an envelope was sealed with, if it is one. */
export function envelopeKeyId(envelope: string): string | undefined {
  const parts = envelope.split(".");
  return parts.length === 5 && parts[0] === "v1" ? parts[1] : undefined;
}

function keyId(salt: string): string {
  return createHash("sha256").update(salt).digest("hex").slice(0, 12);
}

function verifierData(stagePath: string): string {
  return `verifier\n${stagePath}`;
}
