/**
 * Loads Miniflare on first use. It is an optional peer dependency (0.8 s to
 * import, a 119 MB workerd binary), so importing the Cloudflare provider
 * family never loads it: only a run that uses the local runtime does.
 *
 * @module
 */
import { importPeer } from "../../../core/peer-dependency.js";
import { LocalRuntimeError } from "./local-runtime-error.js";

/** The version the local backend was built and tested with. */
export const MINIFLARE_VERSION = "4.20260426.0";

let loaded: Promise<MiniflareModule> | undefined;

/** The `miniflare` module. */
export type MiniflareModule = typeof import("miniflare");

/**
 * The `miniflare` module (Node keeps it once imported).
 *
 * @throws LocalRuntimeError (`miniflare-missing`) when it is not installed.
 */
export async function loadMiniflare(projectDir?: string): Promise<MiniflareModule> {
  try {
    // The first copy found stays in use: a later call without the project's directory gets the same one.
    loaded ??= importPeer<MiniflareModule>("miniflare", projectDir);
    return await loaded;
  } catch (error) {
    loaded = undefined;
    throw new LocalRuntimeError(
      `The local Cloudflare runtime needs Miniflare, which could not be loaded: ${error instanceof Error ? error.message : String(error)}. ` +
        `Install it next to alchemy: npm install --save-dev miniflare@${MINIFLARE_VERSION}`,
      "miniflare-missing",
      "miniflare",
      { cause: error },
    );
  }
}
