/**
 * `alchemy state import --from alchemy-0.94 [dir]`: brings one stage that
 * Alchemy 0.94 wrote (`dir`, default `.alchemy`) over to this engine, in
 * place or into any store (`--to`, default `--state`). The conversion rules
 * are in `../../state/import-v094/convert-v094-stage.ts`. In order:
 *
 * 1. Every record is read and converted in memory (secrets decrypted with
 *    `ALCHEMY_PASSWORD`); anything that cannot be converted is refused here,
 *    with nothing changed.
 * 2. In place (the target is the filesystem store in `dir` itself), the 0.94
 *    files move to `dir/~v094-backup/<app>/<stage>/`; into another store they
 *    stay where they are, unchanged.
 * 3. Under the target stage's lock, into a stage that is empty there: the
 *    stage's new secrets key, then the records (secrets sealed), then every
 *    record is read back and compared, as `state import` does; then, still
 *    under the lock, the stage's history gets one `state import` entry with
 *    every converted record as created.
 *
 * @module
 */
import path from "node:path";
import { convertV094Stage } from "../../state/import-v094/convert-v094-stage.js";
import { sealImported } from "../../state/import-v094/seal-imported.js";
import { assertNoV094Backup, moveV094StageToBackup, v094BackupOf } from "../../state/import-v094/v094-backup.js";
import { readV094Stage, v094Children } from "../../state/import-v094/v094-layout.js";
import { readStageMeta, StoreSession } from "../../state/stage-copy.js";
import { describeLocation, parseStoreUrl, storeFactory, type StoreLocation } from "../../state/store-url.js";
import { EXIT, runCommandBody, UsageError } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { StateCommandError } from "../state-access.js";
import { checkName } from "../state-target.js";
import { checkStageAccess, profileAccess } from "../stage-profile-check.js";
import { copyInto, lockStage, type TransferOptions } from "./state-transfer.js";

/** The formats `state import --from` converts. */
export const IMPORT_FORMATS = ["alchemy-0.94"] as const;

/** Options of {@link stateImportV094}. */
export interface ImportV094Options extends TransferOptions {
  /**
   * The state directory Alchemy 0.94 wrote (its rootDir/.alchemy).
   * @default ".alchemy"
   */
  source?: string;
  /** Target store URL; `--state` when not given. */
  to?: string;
}

/**
 * Converts one stage of Alchemy 0.94 into the target store; resolves to the exit code.
 *
 * @example
 * await stateImportV094({ state: ".alchemy", command: "alchemy state import --from alchemy-0.94" }, processIO());
 */
export async function stateImportV094(opts: ImportV094Options, io: CliIO): Promise<number> {
  const dir = path.resolve(io.cwd, opts.source ?? ".alchemy");
  const to = location(opts.to ?? opts.state, io, opts.profile);
  return runCommandBody(io, async () => {
    const app = opts.app !== undefined ? checkName(opts.app, "application", "--app") : onlyOne(v094Children(dir), "application", "--app <name>", dir);
    const stage =
      opts.stage !== undefined ? checkName(opts.stage, "stage", "--stage") : onlyOne(v094Children(path.join(dir, app)), "stage", "--stage <stage>", path.join(dir, app));
    const source = readV094Stage(dir, app, stage);
    const conversion = await convertV094Stage(source, { password: io.env.ALCHEMY_PASSWORD || undefined });
    const inPlace = to.kind === "file" && path.resolve(to.dir) === dir;
    if (inPlace) assertNoV094Backup(source);
    await checkStageAccess(to, app, stage, profileAccess(opts, io));

    const backup = inPlace ? moveV094StageToBackup(source) : undefined;
    const target = new StoreSession(storeFactory(to));
    let keyId: string | undefined;
    try {
      const locks = await lockStage(target, app, stage, opts.command);
      try {
        const startedAt = Date.now();
        const sealed = await sealImported(conversion.records, `${app}/${stage}`, io.env.ALCHEMY_PASSWORD, await readStageMeta(target, app, stage));
        keyId = sealed.keyId;
        const run = { command: "state import", commandLine: opts.command, startedAt };
        await copyInto(target, to, app, stage, sealed.records, keyId === undefined ? undefined : sealed.meta, run);
      } finally {
        for (const lock of locks) await lock.release().catch(() => undefined);
      }
    } catch (error) {
      if (backup === undefined || !(error instanceof Error)) throw error;
      throw new StateCommandError(
        `${error.message} The Alchemy 0.94 records were moved to ${backup} before the import began. To try again, remove ` +
          `${source.stageDir} and run \`alchemy state import --from alchemy-0.94 ${v094BackupOf(source).root}\`.`,
        { cause: error },
      );
    } finally {
      await target.close();
    }

    const out = [
      `Imported ${conversion.records.length} record(s) of ${app}/${stage} that Alchemy 0.94 wrote in ${dir} into ${describeLocation(to)}; verified.`,
      `- dependencies: ${conversion.dependencies}, recovered from the resource outputs embedded in props`,
      `- scope records dropped: ${conversion.droppedScopes.length}${conversion.droppedScopes.length ? ` (${conversion.droppedScopes.join(", ")})` : ""}`,
      keyId !== undefined
        ? `- secrets: ${conversion.secrets} value(s) decrypted with ALCHEMY_PASSWORD and encrypted again for this engine (stage key ${keyId}); keep using that password`
        : "- secrets: none",
      ...conversion.notes.map((note) => `- ${note}`),
      backup !== undefined
        ? `- the Alchemy 0.94 files were moved to ${backup}, unchanged (delete them once you no longer need them)`
        : `- the Alchemy 0.94 files in ${source.stageDir} are unchanged (they are the backup: delete them once you no longer need them)`,
      `Next: run the program's plan (alchemy plan --stage ${stage}${inPlace || opts.to === undefined ? "" : ` --state ${opts.to}`}); it should show no changes.`,
    ];
    io.stdout.write(out.join("\n") + "\n");
    return EXIT.ok;
  });
}

function onlyOne(names: string[], kind: "application" | "stage", flag: string, dir: string): string {
  if (names.length === 1) return checkName(names[0]!, kind, dir, flag);
  if (names.length === 0) {
    throw new StateCommandError(
      `No ${kind} of Alchemy 0.94 is in ${dir}. Pass the directory Alchemy 0.94 wrote (its rootDir/.alchemy) as the argument, e.g. \`alchemy state import --from alchemy-0.94 path/to/.alchemy\`.`,
    );
  }
  throw new UsageError(`${dir} holds several ${kind === "stage" ? "stages" : "applications"} (${names.join(", ")}): choose one with ${flag}.`);
}

function location(url: string, io: CliIO, profile: string | undefined): StoreLocation {
  try {
    return parseStoreUrl(url, io.cwd, profile);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
