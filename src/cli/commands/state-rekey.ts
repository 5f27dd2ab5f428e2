/**
 * `alchemy state rekey`: re-encrypts every secret of a stage with a new
 * password, under the stage's lock. The old password comes from
 * `ALCHEMY_PASSWORD`, the new one from `ALCHEMY_NEW_PASSWORD` or, on a
 * terminal, a prompt (asked twice). Interrupted, it can be run again with the
 * same two passwords to finish. The command's profile must be allowed on
 * the stage by its `stageProfileMapping` (see `../stage-profile-check.ts`).
 *
 * @module
 */
import { rekeyStage } from "../../core/secrets/rekey.js";
import { canLock, currentHolder } from "../../state/stage-lock.js";
import { describeLocation, storeFactory } from "../../state/store-url.js";
import { EXIT, runCommandBody, UsageError } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { askSecret } from "../prompt.js";
import { resolveApp } from "../state-access.js";
import { resolveStage, stateLocationOf } from "../state-target.js";
import { checkStageAccess, profileAccess } from "../stage-profile-check.js";
import type { StateCommandOptions } from "./state.js";
import { readStage, StoreSession } from "../../state/stage-copy.js";
import { recordCommandHistory } from "../command-history.js";

export async function stateRekey(opts: StateCommandOptions & { stage?: string; command: string }, io: CliIO): Promise<number> {
  const stage = resolveStage(opts.stage, io.env);
  const location = stateLocationOf(opts, io);
  const oldPassword = io.env.ALCHEMY_PASSWORD;
  if (!oldPassword) throw new UsageError("Set ALCHEMY_PASSWORD to the stage's current password; the new one comes from ALCHEMY_NEW_PASSWORD or a prompt.");
  const newPassword = io.env.ALCHEMY_NEW_PASSWORD || (await promptNew(io));
  if (newPassword === oldPassword) throw new UsageError("The new password is the same as the current one; nothing to do.");
  return runCommandBody(io, async () => {
    const app = resolveApp(location, opts.app);
    await checkStageAccess(location, app, stage, profileAccess(opts, io));
    const factory = storeFactory(location);
    const store = factory({ chain: [app, stage] });
    const lock = canLock(store) ? await store.lock({ holder: currentHolder(opts.command), leaseMs: 30_000, timeoutMs: 0 }) : undefined;
    try {
      await store.init?.();
      const startedAt = Date.now();
      const outcome = await rekeyStage(factory, store, `${app}/${stage}`, oldPassword, newPassword);
      const session = new StoreSession(factory);
      try {
        const records = (await readStage(session, app, stage)).map((r) => r.state);
        await recordCommandHistory(store, records, { command: "state rekey", commandLine: opts.command, startedAt });
      } finally {
        await session.close();
      }
      io.stdout.write(
        `Re-keyed the secrets of ${app}/${stage} in ${describeLocation(location)}: ${outcome.resealed} record(s) re-encrypted` +
          (outcome.alreadyDone ? `, ${outcome.alreadyDone} already done by an earlier run` : "") +
          `; key ${outcome.keyId}. Use the new password from now on.\n`,
      );
      return EXIT.ok;
    } finally {
      await store.deinit?.();
      await lock?.release();
    }
  });
}

async function promptNew(io: CliIO): Promise<string> {
  if (!io.stdin.isTTY) throw new UsageError("Set ALCHEMY_NEW_PASSWORD to the new password (no terminal to ask on).");
  const first = await askSecret(io, "New password: ");
  const second = await askSecret(io, "New password again: ");
  if (!first || first !== second) throw new UsageError("The two new passwords differ (or are empty); nothing was changed.");
  return first;
}
