/**
 * The error of everything that goes wrong with secrets.
 *
 * @module
 */
import { AlchemyError } from "../errors.js";

/** A secret could not be stored or read; the message names the stage, record and field. */
export class SecretError extends AlchemyError {
  override name = "SecretError";
  constructor(
    message: string,
    readonly reason: "no-password" | "wrong-password" | "undecryptable" | "no-store-support",
  ) {
    super(message);
  }
}
