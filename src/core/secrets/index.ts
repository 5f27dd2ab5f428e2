/**
 * Secrets: values that are never printed and are stored encrypted.
 *
 * @module
 */
export { Secret, isSecret } from "./secret.js";
export { SecretError } from "./secret-error.js";
