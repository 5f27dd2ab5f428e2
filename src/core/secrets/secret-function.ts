/**
 * `alchemy.secret(value)`.
 *
 * @module
 */
import { currentScope } from "../context.js";
import { Secret } from "./secret.js";
import { SecretError } from "./secret-error.js";

/**
 * Wraps a sensitive string: it prints as `[secret]`, and is stored encrypted
 * with the run's password (`ALCHEMY_PASSWORD` or the `password` option).
 * Inside an application without a password this throws at once, before any
 * resource that would store it is created.
 *
 * @example
 * const token = alchemy.secret(process.env.API_TOKEN);
 */
export function secret(value: string): Secret {
  const wrapped = new Secret(value);
  const scope = currentScope();
  if (scope && scope.context.options.password === undefined && scope.phase !== "plan" && scope.phase !== "read") {
    const { appName, stage } = scope.context.options;
    throw new SecretError(
      `alchemy.secret() was called in application "${appName}" (stage "${stage}") without a password, so the secret could not be stored encrypted. ` +
        "Set ALCHEMY_PASSWORD (or pass `password` to alchemy()) and keep it: the stage's secrets open only with it.",
      "no-password",
    );
  }
  return wrapped;
}
