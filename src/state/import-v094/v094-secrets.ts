/**
 * Alchemy 0.94's encrypted values, as its `serialize` writes them:
 *
 * ```
 * { "@secret": { "version": "v1", "ciphertext", "iv", "salt", "tag" } }           a string secret
 * { "@secret": { "data": { "version": "v1", "ciphertext", "iv", "salt", "tag" } } } any other value, as JSON
 * { "@secret": "<base64>" }                                                         libsodium (before 0.94's AES)
 * ```
 *
 * AES-256-GCM with no associated data, under a key derived from the password
 * with scrypt (N = 16384, r = 8, p = 1) and the value's own 16-byte salt (all
 * base64). This module only opens them; the import seals the plaintexts again
 * with this engine's stage key (see `../../core/secrets/`).
 *
 * @module
 */
import { createDecipheriv, scrypt } from "node:crypto";

/** The AES-GCM parts of one 0.94 value. */
interface V094Cipher {
  version: string;
  ciphertext: string;
  iv: string;
  salt: string;
  tag: string;
}

/** What a 0.94 `@secret` holds, or why it cannot be opened here. */
export type V094SecretForm =
  | { form: "string"; cipher: V094Cipher }
  | { form: "json"; cipher: V094Cipher }
  | { form: "unsupported"; why: string };

/** Tells the forms of a 0.94 `@secret` value apart. */
export function v094SecretForm(sealed: unknown): V094SecretForm {
  if (typeof sealed === "string") {
    return {
      form: "unsupported",
      why: "it is encrypted with libsodium, the format of Alchemy releases before 0.94's AES-256-GCM, which this engine cannot decrypt",
    };
  }
  if (isCipher(sealed)) return { form: "string", cipher: sealed };
  if (sealed !== null && typeof sealed === "object" && isCipher((sealed as { data?: unknown }).data)) {
    return { form: "json", cipher: (sealed as { data: V094Cipher }).data };
  }
  return { form: "unsupported", why: "it is not in a format Alchemy 0.94 writes" };
}

/**
 * Decrypts a 0.94 value with `password`; `undefined` when the password (or
 * the value) is wrong.
 *
 * @example
 * await openV094Cipher(cipher, "the stage's password"); // "sk_live_..."
 */
export async function openV094Cipher(cipher: V094Cipher, password: string): Promise<string | undefined> {
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, Buffer.from(cipher.salt, "base64"), 32, { N: 16384, r: 8, p: 1 }, (error, derived) => (error ? reject(error) : resolve(derived))),
  );
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(cipher.iv, "base64"));
    decipher.setAuthTag(Buffer.from(cipher.tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(cipher.ciphertext, "base64")), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}

function isCipher(value: unknown): value is V094Cipher {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return v.version === "v1" && ["ciphertext", "iv", "salt", "tag"].every((k) => typeof v[k] === "string");
}
