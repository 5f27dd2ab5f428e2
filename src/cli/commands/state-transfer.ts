/**
 * `alchemy state migrate | export | import`: moving a stage's records between
 * stores. Stores are named by URL (`file:.alchemy`, `sqlite:path`,
 * `postgres://...`); the source is never changed, the target must not hold the
 * stage yet, and every copy is read back and compared before it is reported.
 * An import takes only records that belong to the stage its document names
 * (fqn = chain plus id, deps inside the stage) and refuses the document
 * otherwise, before writing anything: records are never moved between stages.
 * The command's profile must be allowed on the stage at each end (see
 * `../stage-profile-check.ts`), and an export's own recorded mapping travels
 * with it and is checked on import.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { canLock, currentHolder, type StageLock } from "../../state/stage-lock.js";
import { recordCommandHistory, type CommandRun } from "../command-history.js";
import { readStageAt } from "./state-history.js";
import { withStateSession } from "../state-access.js";
import { isDeepStrictEqual } from "node:util";
import { parseStageExport, readStage, readStageMeta, StoreSession, verifyCopy, writeStage, writeStageMeta, type StageExport, type StageRecord } from "../../state/stage-copy.js";
import type { StageMeta } from "../../state/state-store.js";
import { describeLocation, parseStoreUrl, storeFactory, type StoreLocation } from "../../state/store-url.js";
import { EXIT, runCommandBody, UsageError } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { resolveApp, StateCommandError } from "../state-access.js";
import { checkName, resolveStage } from "../state-target.js";
import { checkRecordedProfiles } from "../../core/profiles/recorded-mapping.js";
import { checkStageAccess, profileAccess } from "../stage-profile-check.js";

export interface TransferOptions {
  /** `--state` (or `$ALCHEMY_STATE_STORE`): a directory or store URL, the default end of a transfer. */
  state: string;
  stateFrom?: string;
  app?: string;
  stage?: string;
  /**
   * The profile the command runs as, checked against the stage's mapping at both ends.
   * @default process.env.ALCHEMY_PROFILE ?? "default"
   */
  profile?: string;
  /** The command line, recorded as the holder of the locks taken. */
  command: string;
}

/** Copies every record of a stage from `--from` (default: the filesystem store) to `--to`, under both stages' locks. */
export async function stateMigrate(opts: TransferOptions & { from?: string; to: string }, io: CliIO): Promise<number> {
  const stage = resolveStage(opts.stage, io.env);
  const from = location(opts.from ?? opts.state, io, opts.profile);
  const to = location(opts.to, io, opts.profile);
  return runCommandBody(io, async () => {
    const app = appFor(from, opts.app);
    const access = profileAccess(opts, io);
    await checkStageAccess(from, app, stage, access);
    await checkStageAccess(to, app, stage, access);
    const source = new StoreSession(storeFactory(from));
    const target = new StoreSession(storeFactory(to));
    const locks: StageLock[] = [];
    try {
      locks.push(...(await lockStage(source, app, stage, opts.command)), ...(await lockStage(target, app, stage, opts.command)));
      const records = await readStage(source, app, stage);
      if (records.length === 0) throw new StateCommandError(`Stage "${stage}" of app "${app}" has no records in ${describeLocation(from)}: nothing to migrate.`);
      const startedAt = Date.now();
      await copyInto(target, to, app, stage, records, await readStageMeta(source, app, stage), { command: "state migrate", commandLine: opts.command, startedAt });
      io.stdout.write(`Migrated ${records.length} record(s) of ${app}/${stage} from ${describeLocation(from)} to ${describeLocation(to)}; verified. The source is unchanged.\n`);
      return EXIT.ok;
    } finally {
      for (const lock of locks) await lock.release().catch(() => undefined);
      await source.close();
      await target.close();
    }
  });
}

/** Prints (or writes to `--output`) every record of a stage as one JSON document. */
export async function stateExport(opts: TransferOptions & { from?: string; output?: string; at?: string }, io: CliIO): Promise<number> {
  const stage = resolveStage(opts.stage, io.env);
  const from = location(opts.from ?? opts.state, io, opts.profile);
  return runCommandBody(io, async () => {
    const app = appFor(from, opts.app);
    await checkStageAccess(from, app, stage, profileAccess(opts, io));
    const source = new StoreSession(storeFactory(from));
    try {
      const { records, meta } = opts.at === undefined ? { records: await readStage(source, app, stage), meta: await readStageMeta(source, app, stage) } : await exportAt(from, app, stage, opts.at);
      const doc: StageExport = { format: "alchemy-stage", version: 1, app, stage, ...(meta ? { meta } : {}), records };
      const text = JSON.stringify(doc, null, 2) + "\n";
      if (opts.output) {
        writeFileSync(path.resolve(io.cwd, opts.output), text, { mode: 0o600 });
        io.stderr.write(`Exported ${records.length} record(s) of ${app}/${stage} to ${opts.output}.\n`);
      } else io.stdout.write(text);
      return EXIT.ok;
    } finally {
      await source.close();
    }
  });
}

/** Writes the records of an export (a file, or `-` for stdin) into `--to` (default: the filesystem store), under the stage's lock. */
export async function stateImport(file: string, opts: TransferOptions & { to?: string }, io: CliIO): Promise<number> {
  const to = location(opts.to ?? opts.state, io, opts.profile);
  return runCommandBody(io, async () => {
    const source = file === "-" ? "stdin" : path.resolve(io.cwd, file);
    let doc: StageExport;
    try {
      doc = parseStageExport(JSON.parse(readFileSync(file === "-" ? 0 : source, "utf8")), source);
    } catch (error) {
      if (error instanceof SyntaxError) throw new StateCommandError(`${source} is not JSON: ${error.message}. Make it with \`alchemy state export\`.`);
      throw error;
    }
    checkName(doc.app, "application", source);
    checkName(doc.stage, "stage", source);
    const access = profileAccess(opts, io);
    checkRecordedProfiles(doc.stage, access.profile, doc.meta, { user: access.user, where: source });
    await checkStageAccess(to, doc.app, doc.stage, access);
    const target = new StoreSession(storeFactory(to));
    const locks = await lockStage(target, doc.app, doc.stage, opts.command);
    try {
      const startedAt = Date.now();
      await copyInto(target, to, doc.app, doc.stage, doc.records, doc.meta, { command: "state import", commandLine: opts.command, startedAt });
      io.stdout.write(`Imported ${doc.records.length} record(s) of ${doc.app}/${doc.stage} into ${describeLocation(to)}; verified.\n`);
      return EXIT.ok;
    } finally {
      for (const lock of locks) await lock.release().catch(() => undefined);
      await target.close();
    }
  });
}

/**
 * Writes `records` (and `meta`, first) into stage `app/stage` of `target`,
 * which must hold no record of it yet, reads every record back and compares,
 * then appends `run`'s entry to the stage's history from the records read
 * back. The caller holds the stage's lock.
 */
export async function copyInto(target: StoreSession, to: StoreLocation, app: string, stage: string, records: StageRecord[], meta: StageMeta | undefined, run: CommandRun): Promise<void> {
  const existing = await readStage(target, app, stage);
  if (existing.length > 0) {
    throw new StateCommandError(
      `Stage "${stage}" of app "${app}" already has ${existing.length} record(s) in ${describeLocation(to)}; a copy goes only into a stage that is empty there. ` +
        "Pick another target, or destroy or clear that stage first.",
    );
  }
  await writeStageMeta(target, app, stage, meta, describeLocation(to));
  await writeStage(target, records);
  const written = await readStage(target, app, stage);
  verifyCopy(records, written, describeLocation(to));
  if (meta !== undefined && !isDeepStrictEqual(await readStageMeta(target, app, stage), meta)) {
    throw new StateCommandError(`The stage metadata copied to ${describeLocation(to)} does not match its source.`);
  }
  await recordCommandHistory(await target.open([app, stage]), written.map((r) => r.state), run);
}

/** The stage as it was after `run`, from its history (read-only: no lock, no write). */
async function exportAt(from: StoreLocation, app: string, stage: string, run: string): Promise<{ records: StageRecord[]; meta: StageMeta | undefined }> {
  const at = await withStateSession(from, (session) => readStageAt(session, app, stage, run));
  return { records: at.records.map((state) => ({ chain: state.fqn.split("/").slice(0, -1), state })), meta: at.meta };
}

/** Takes the stage's lock in a store that can lock; none otherwise. */
export async function lockStage(session: StoreSession, app: string, stage: string, command: string): Promise<StageLock[]> {
  // Before any read of the stage: the lock comes first.
  const store = session.make([app, stage]);
  if (!canLock(store)) return [];
  return [await store.lock({ holder: currentHolder(command), leaseMs: 30_000, timeoutMs: 0 })];
}

function location(url: string, io: CliIO, profile: string | undefined): StoreLocation {
  try {
    return parseStoreUrl(url, io.cwd, profile);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function appFor(from: StoreLocation, app: string | undefined): string {
  if (from.kind === "file") return resolveApp(from.dir, app);
  if (app === undefined) throw new UsageError(`Pass --app: the application cannot be guessed from ${describeLocation(from)}.`);
  return checkName(app, "application", "--app");
}
