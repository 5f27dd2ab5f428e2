/**
 * Random values that are generated once and kept in state: {@link RandomString}.
 *
 * @example
 * import { RandomString } from "alchemy/random";
 * const secret = await RandomString("session-secret", { length: 48 });
 *
 * @module
 */
export {
  MAX_RANDOM_STRING_LENGTH,
  RANDOM_STRING_CHARSETS,
  RandomString,
  type RandomStringCharsetName,
  type RandomStringProps,
} from "./random-string.js";
