/**
 * `alchemy ui`: a local, read-only web app over the state store, on
 * 127.0.0.1 only, behind a random token in the URL it prints. It reads
 * through the stores (as `alchemy state list` does), takes no lock and
 * writes nothing; it runs until Ctrl-C.
 *
 * @module
 */
import { StateSession } from "../state-access.js";
import { storeFactory } from "../../state/store-url.js";
import { startUiServer } from "../../ui/ui-server.js";
import { EXIT, runCommandBody } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { profileAccess } from "../stage-profile-check.js";
import { checkName, stateLocationOf } from "../state-target.js";
import { StateCommandError } from "../state-access.js";
import type { StateCommandOptions } from "./state.js";

/** Options of `alchemy ui`. */
export interface UiCommandOptions extends StateCommandOptions {
  /**
   * The port on 127.0.0.1.
   * @default 0: a free port the system picks
   */
  port?: number;
  /** Resolves when the UI should stop. @default the first SIGINT or SIGTERM */
  stopped?: Promise<void>;
}

/**
 * `alchemy ui`: serves the UI until stopped, then exits 0.
 *
 * @example
 * await uiCommand({ state: ".alchemy", port: 0 }, processIO());
 * // stdout: alchemy ui: http://127.0.0.1:39521/?token=...
 */
export async function uiCommand(opts: UiCommandOptions, io: CliIO): Promise<number> {
  return runCommandBody(io, async () => {
    const where = stateLocationOf(opts, io);
    const warn = (message: string) => void io.stderr.write(`! ${message}\n`);
    const session = new StateSession(where, storeFactory(where), warn);
    try {
      const app = opts.app === undefined ? undefined : checkName(opts.app, "application", "--app");
      let ui;
      try {
        ui = await startUiServer({ session, app, access: profileAccess(opts, io), port: opts.port ?? 0 });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE") throw new StateCommandError(`Port ${opts.port} on 127.0.0.1 is in use: pass another with --port <n>, or --port 0 for any free one.`, { cause: error });
        if (code === "EACCES") throw new StateCommandError(`Port ${opts.port} needs privileges this user lacks: pass --port 1024 or higher, or --port 0.`, { cause: error });
        throw error;
      }
      io.stdout.write(`alchemy ui: ${ui.url}\n`);
      io.stderr.write(`Reading ${session.where} (read-only; no lock is taken). Only this URL, token included, opens it. Ctrl-C stops.\n`);
      await (opts.stopped ?? untilSignal());
      await ui.close();
      io.stderr.write("Stopped.\n");
      return EXIT.ok;
    } finally {
      await session.close();
    }
  });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
