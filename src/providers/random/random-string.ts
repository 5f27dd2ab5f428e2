import { randomInt } from "node:crypto";
import { Resource, ResourceError, type Context, type HandlerPhase } from "../../index.js";

/** The alphabets a {@link RandomString} can be drawn from by name. */
export const RANDOM_STRING_CHARSETS = {
  /** `A-Z`, `a-z`, `0-9`: 62 characters, about 5.95 bits each. */
  alphanumeric: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
  /** `0-9`, `a-f`: 4 bits each. */
  hex: "0123456789abcdef",
  /** `A-Z`, `a-z`, `0-9`, `-`, `_` (RFC 4648 URL-safe base64): 6 bits each. */
  base64url: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
} as const;

/** A named alphabet of {@link RANDOM_STRING_CHARSETS}. */
export type RandomStringCharsetName = keyof typeof RANDOM_STRING_CHARSETS;

/** Longest string a {@link RandomString} generates. */
export const MAX_RANDOM_STRING_LENGTH = 4096;

/** Props of a {@link RandomString}. */
export interface RandomStringProps {
  /**
   * Number of characters, an integer from 1 to 4096.
   *
   * @default 32
   */
  length?: number;
  /**
   * The alphabet: a name from {@link RANDOM_STRING_CHARSETS}, or any other
   * string of at least two distinct characters used as a custom alphabet
   * (e.g. `"0123456789"` for digits only).
   *
   * @default "alphanumeric"
   */
  charset?: RandomStringCharsetName | (string & {});
}

/** Output of a {@link RandomString}. */
export interface RandomString {
  /**
   * The generated string. It is recorded in state as plain text, like every
   * output: treat the state directory as secret if the value is.
   */
  value: string;
  /** Number of characters in `value`. */
  length: number;
  /** The charset name or custom alphabet it was drawn from. */
  charset: string;
}

/**
 * A random string drawn with `crypto.randomInt`, uniformly from its alphabet
 * (no modulo bias), for passwords, tokens and unique names.
 *
 * The value is generated once and kept: runs with the same props skip it, so
 * it stays the same across runs. It is regenerated only when `length` or
 * `charset` change (props that merely spell the defaults out, such as
 * `{ length: 32 }` for `{}`, keep the value). Pass the output itself (not
 * `.value`) in other resources' props so they depend on it and are updated
 * when it is regenerated.
 *
 * - **create / update**: pure computation; nothing outside state exists, so a
 *   failure leaves nothing behind and invalid props fail before anything is
 *   recorded as created.
 * - **delete**: only forgets the value.
 *
 * @example
 * const secret = await RandomString("session-secret");                         // 32 alphanumerics
 * const token = await RandomString("token", { length: 64, charset: "hex" });
 * const pin = await RandomString("pin", { length: 6, charset: "0123456789" });
 * await File("config", { path: "out/config.json", json: { secret } });
 */
export const RandomString = Resource(
  "random::RandomString",
  async function (
    this: Context<RandomString, RandomStringProps | undefined>,
    id: string,
    props?: RandomStringProps,
  ): Promise<RandomString> {
    if (this.phase === "delete") return this.destroy();

    const length = validateLength(this.fqn, this.phase, props?.length);
    const charset = props?.charset ?? "alphanumeric";
    const alphabet = alphabetOf(this.fqn, this.phase, charset);
    const previous = this.output;
    if (this.phase === "update" && previous && previous.length === length && previous.charset === charset) {
      return previous;
    }
    let value = "";
    for (let i = 0; i < length; i++) value += alphabet[randomInt(alphabet.length)];
    return { value, length, charset };
  },
);

function validateLength(fqn: string, operation: HandlerPhase, length: unknown): number {
  if (length === undefined) return 32;
  if (typeof length === "number" && Number.isInteger(length) && length >= 1 && length <= MAX_RANDOM_STRING_LENGTH) {
    return length;
  }
  throw new ResourceError(
    `RandomString ${fqn} has length ${typeof length === "string" ? JSON.stringify(length) : String(length)}; ` +
      `use a whole number from 1 to ${MAX_RANDOM_STRING_LENGTH}, or leave it out for 32.`,
    fqn,
    operation,
  );
}

/** The characters of a named or custom charset, as code points. */
function alphabetOf(fqn: string, operation: HandlerPhase, charset: unknown): readonly string[] {
  if (typeof charset !== "string") {
    throw new ResourceError(
      `RandomString ${fqn} has a ${typeof charset} charset; use ${charsetNames()} or a string of characters.`,
      fqn,
      operation,
    );
  }
  if (Object.hasOwn(RANDOM_STRING_CHARSETS, charset)) {
    return Array.from(RANDOM_STRING_CHARSETS[charset as RandomStringCharsetName]);
  }
  const alphabet = Array.from(charset);
  const distinct = new Set(alphabet);
  if (distinct.size < 2 || distinct.size !== alphabet.length) {
    throw new ResourceError(
      `RandomString ${fqn} has charset ${JSON.stringify(charset)}, which is neither ${charsetNames()} nor a custom ` +
        `alphabet of at least two characters without repeats (a repeated character would be drawn more often).`,
      fqn,
      operation,
    );
  }
  return alphabet;
}

function charsetNames(): string {
  return Object.keys(RANDOM_STRING_CHARSETS)
    .map((name) => `"${name}"`)
    .join(", ");
}
