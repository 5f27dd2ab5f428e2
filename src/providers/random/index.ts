/**
 * Random values that are generated once and kept in state: {@link RandomString}.
 *
 * @example
 * import { RandomString } from "alchemy/random";
 * const secret = await RandomString("session-secret", { length: 48 });  // secret.value is a Secret, stored encrypted
 * const suffix = await RandomString("suffix", { length: 8, secret: false }); // suffix.value is a plain string
 *
 * @module
 */
export {
  MAX_RANDOM_STRING_LENGTH,
  RANDOM_STRING_CHARSETS,
  RandomString,
  type RandomStringCharsetName,
  type RandomStringFactory,
  type RandomStringProps,
} from "./random-string.js";
