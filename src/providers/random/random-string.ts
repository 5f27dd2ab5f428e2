import { randomInt } from "node:crypto";
import { currentScope } from "../../core/context.js";
import { isSecret, Resource, ResourceError, Secret, SecretError, type Context, type HandlerPhase, type ResourceFactory } from "../../index.js";

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
  /**
   * Whether the value is a secret. A secret `value` is a {@link Secret}, like
   * `alchemy.secret(...)`: stored encrypted with the run's password
   * (`ALCHEMY_PASSWORD`), shown as `[secret]` by `read`, `plan`, `--json` and
   * logs, and read with `value.unwrap()`. `false` is for values that are not
   * secret (unique names, ids): `value` is then a plain string, stored and
   * printed as is, and no password is needed.
   *
   * Changing it keeps the value: only how it is stored changes.
   *
   * @default true
   * @example
   * const suffix = await RandomString("suffix", { length: 8, secret: false });
   * await Folder("out", { path: `out-${suffix.value}` });
   */
  secret?: boolean;
}

/**
 * Output of a {@link RandomString}: `Value` is {@link Secret} unless the
 * props say `secret: false` (then `RandomString<string>`).
 */
export interface RandomString<Value extends string | Secret = Secret> {
  /**
   * The generated string: a {@link Secret} (stored encrypted; `value.unwrap()`
   * gives the string), or with `secret: false` the plain string.
   */
  value: Value;
  /** Number of characters in `value`. */
  length: number;
  /** The charset name or custom alphabet it was drawn from. */
  charset: string;
}

/** `RandomString(...)`: the value is a {@link Secret} unless the props say `secret: false`. */
export interface RandomStringFactory extends Omit<ResourceFactory<RandomString, RandomStringProps | undefined>, never> {
  (id: string, props: RandomStringProps & { secret: false }): Promise<RandomString<string>>;
  (id: string, props?: RandomStringProps & { secret?: true }): Promise<RandomString<Secret>>;
  (id: string, props?: RandomStringProps): Promise<RandomString<Secret | string>>;
}

/** What a handler call produces and finds recorded: plain in records from before `secret` existed. */
type Drawn = RandomString<Secret | string>;

const RandomStringResource = Resource(
  "random::RandomString",
  {
    // Nothing outside state to read: the recorded value is the resource.
    async read(this: Context<Drawn, RandomStringProps | undefined>): Promise<Drawn> {
      return this.output;
    },
  },
  async function (
    this: Context<Drawn, RandomStringProps | undefined>,
    id: string,
    props?: RandomStringProps,
  ): Promise<Drawn> {
    if (this.phase === "delete") return this.destroy();

    const length = validateLength(this.fqn, this.phase, props?.length);
    const charset = props?.charset ?? "alphanumeric";
    const secret = validateSecret(this.fqn, this.phase, props?.secret);
    const alphabet = alphabetOf(this.fqn, this.phase, charset);
    const previous = this.output;
    const recorded = previous?.value;
    const kept = isSecret(recorded) ? recorded.unwrap() : recorded;
    if (this.phase === "update" && previous && typeof kept === "string" && previous.length === length && previous.charset === charset) {
      // The same draw: keep the value. A record written before `secret` existed holds it in
      // plain text; this is where it becomes a Secret (sealed when recorded), unchanged.
      return { value: secret ? new Secret(kept) : kept, length, charset };
    }
    let value = "";
    for (let i = 0; i < length; i++) value += alphabet[randomInt(alphabet.length)];
    return { value: secret ? new Secret(value) : value, length, charset };
  },
);

/**
 * A random string drawn with `crypto.randomInt`, uniformly from its alphabet
 * (no modulo bias), for passwords, tokens and unique names.
 *
 * **A secret by default**: `value` is a {@link Secret}, stored encrypted with
 * the run's password and shown as `[secret]`; read it with `value.unwrap()`.
 * Deploying one needs a password (`ALCHEMY_PASSWORD`, or `password` in
 * `alchemy()`): without one the call throws a {@link SecretError} before
 * anything is recorded. Pass `secret: false` for a value that is not secret;
 * `value` is then a plain string, kept in state as plain text.
 *
 * The value is generated once and kept: runs with the same props skip it, so
 * it stays the same across runs. It is regenerated only when `length` or
 * `charset` change (props that merely spell the defaults out, such as
 * `{ length: 32 }` for `{}`, keep the value, and so does a change of
 * `secret`). Pass the output itself (not `.value`) in other resources' props
 * so they depend on it and are updated when it is regenerated; the secret
 * stays encrypted in their records too.
 *
 * The props are recorded with `secret` spelled out. A record written before
 * `secret` existed has no such prop and holds the value in plain text: the
 * next deploy updates it once, keeping the value and sealing it (or, with
 * `secret: false`, keeping it plain).
 *
 * - **create / update**: pure computation; nothing outside state exists, so a
 *   failure leaves nothing behind and invalid props fail before anything is
 *   recorded as created.
 * - **delete**: only forgets the value.
 * - **read** (`alchemy read`, refreshes): nothing outside state to read; the
 *   recorded output, so it never drifts.
 *
 * @example
 * const secret = await RandomString("session-secret");                         // 32 alphanumerics, a Secret
 * const token = await RandomString("token", { length: 64, charset: "hex" });
 * const pin = await RandomString("pin", { length: 6, charset: "0123456789" });
 * const suffix = await RandomString("suffix", { length: 8, secret: false });  // suffix.value is a string
 * await File("config", { path: "out/config.json", json: { secret } });         // the file gets the value itself
 * // in a handler: fetch(url, { headers: { authorization: props.secret.value.unwrap() } })
 */
export const RandomString: RandomStringFactory = Object.assign(declareRandomString, RandomStringResource);

function declareRandomString(id: string, props: RandomStringProps & { secret: false }): Promise<RandomString<string>>;
function declareRandomString(id: string, props?: RandomStringProps & { secret?: true }): Promise<RandomString<Secret>>;
function declareRandomString(id: string, props?: RandomStringProps): Promise<Drawn>;
async function declareRandomString(id: string, props?: RandomStringProps): Promise<Drawn> {
  const recorded = withSecretSpelledOut(props);
  if (recorded?.secret === true) assertPasswordFor(id);
  return RandomStringResource(id, recorded);
}

/**
 * `props` with `secret` spelled out, so that the recorded props say how the
 * value is stored and a record from before `secret` existed differs from
 * what the program now declares (see {@link RandomString}). Anything that is
 * not a props object is passed on for the handler to refuse.
 */
function withSecretSpelledOut(props: RandomStringProps | undefined): RandomStringProps | undefined {
  if (props === undefined) return { secret: true };
  if (props === null || typeof props !== "object" || Array.isArray(props) || props.secret !== undefined) return props;
  return { ...props, secret: true };
}

/**
 * A deploy that would store a secret without a password fails here, before
 * anything is recorded, as `alchemy.secret()` does (plan and read store
 * nothing; destroy only forgets).
 */
function assertPasswordFor(id: string): void {
  const scope = currentScope();
  if (!scope || scope.phase !== "up" || scope.context.options.password !== undefined) return;
  const { appName, stage } = scope.context.options;
  throw new SecretError(
    `RandomString "${scope.path}/${id}" is a secret (the default), so its value is stored encrypted, but application "${appName}" ` +
      `(stage "${stage}") has no password. Set ALCHEMY_PASSWORD (or pass \`password\` to alchemy()) and keep it: the stage's ` +
      "secrets open only with it. For a value that is not secret, pass `secret: false` to keep it in plain text.",
    "no-password",
  );
}

function validateSecret(fqn: string, operation: HandlerPhase, secret: unknown): boolean {
  if (secret === undefined || secret === true) return true;
  if (secret === false) return false;
  throw new ResourceError(
    `RandomString ${fqn} has secret ${JSON.stringify(secret) ?? String(secret)}; use true (the default) or false.`,
    fqn,
    operation,
  );
}

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
