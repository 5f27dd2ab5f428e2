/**
 * `alchemy state list | show | rm`: inspect and edit recorded state
 * without running the program, in the filesystem store or the store `--state`
 * names by URL. Every read and
 * write goes through the store (see `../state-access.ts`), so changes a
 * stage's journal holds but its record files do not yet are seen too. Each
 * command first checks that its profile may use the stage (see
 * `../stage-profile-check.ts`).
 *
 * @module
 */
import type { State } from "../../state/state-store.js";
import { describeLocation } from "../../state/store-url.js";
import { EXIT, runCommandBody } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { columns, compare } from "./stages.js";
import { resolveApp, StateCommandError, withStateSession, type StateSession } from "../state-access.js";
import { checkStageAccess, profileAccess } from "../stage-profile-check.js";
import { parseFqn, resolveStage, stateLocationOf, type ResourceAddress } from "../state-target.js";
import { recordCommandHistory, type CommandRun } from "../command-history.js";
import { readStageAt } from "./state-history.js";

/** Options every state command takes. */
export interface StateCommandOptions {
  /**
   * State directory of the filesystem store (relative to the working
   * directory), or a store URL: `file:<dir>`, `sqlite:<file>`, `postgres://...`.
   * @default ".alchemy"
   */
  state: string;
  /** Where `state` came from, for error messages: `--state` (default) or `$ALCHEMY_STATE_STORE`. */
  stateFrom?: string;
  /**
   * Application name.
   * @default the only application in the state directory
   */
  app?: string;
  /**
   * The profile the command runs as, checked against the stage's
   * `stageProfileMapping` before the stage is read or changed.
   * @default process.env.ALCHEMY_PROFILE ?? "default"
   */
  profile?: string;
}

/** One element of `alchemy state list --json`. */
export interface StateListEntry {
  fqn: string;
  kind: string;
  status: State["status"];
  id: string;
  /** fqns of the resources whose outputs this one's props use. */
  deps: string[];
}

/**
 * `alchemy state list`: every record of a stage, nested and resource scopes
 * included, one `fqn  kind  status` line each, sorted by fqn.
 *
 * @example
 * await stateList({ state: ".alchemy", stage: "dev", json: false }, processIO());
 * // shop/dev/backend/db  test::Database  created
 */
export async function stateList(opts: StateCommandOptions & { stage?: string; json: boolean }, io: CliIO): Promise<number> {
  return runCommandBody(io, async () => {
    const where = stateLocationOf(opts, io);
    const stage = resolveStage(opts.stage, io.env);
    const app = resolveApp(where, opts.app);
    await checkStageAccess(where, app, stage, profileAccess(opts, io));
    const { records, stages } = await withStateSession(where, async (session) => {
      const records = (await session.walk([app, stage])).flatMap((scope) => scope.records);
      return { records, stages: records.length === 0 ? await stagesOf(session, app) : [] };
    }, io.stderr);
    records.sort((a, b) => compare(a.fqn, b.fqn));
    if (opts.json) {
      const entries: StateListEntry[] = records.map(({ fqn, kind, status, id, deps }) => ({ fqn, kind, status, id, deps }));
      io.stdout.write(JSON.stringify(entries, null, 2) + "\n");
    } else if (records.length === 0) {
      const others = stages.filter((s) => s !== stage);
      const hint = others.length > 0 ? ` Stages with records: ${others.join(", ")}; choose one with --stage <stage>.` : "";
      io.stdout.write(`No resources recorded for app "${app}", stage "${stage}" in ${describeLocation(where)}.${hint}\n`);
    } else {
      writeLines(io, columns(records.map((r) => [r.fqn, r.kind, r.status])));
    }
    return EXIT.ok;
  });
}

/**
 * `alchemy state show <fqn>`: the record of one resource, as pretty JSON
 * (with `--json` too: the record is already JSON).
 *
 * @example
 * await stateShow("shop/dev/backend/db", { state: ".alchemy", json: true }, processIO());
 */
export async function stateShow(fqn: string, opts: StateCommandOptions & { json: boolean; at?: string }, io: CliIO): Promise<number> {
  const address = parseFqn(fqn);
  return runCommandBody(io, async () => {
    const where = stateLocationOf(opts, io);
    await checkStageAccess(where, address.app, address.stage, profileAccess(opts, io));
    const record = await withStateSession(where, async (session) => {
      const found =
        opts.at === undefined
          ? await (await session.open(address.scope)).get(address.id)
          : (await readStageAt(session, address.app, address.stage, opts.at)).records.find((r) => r.fqn === address.fqn);
      if (found === undefined && opts.at !== undefined) {
        io.stderr.write(`error: "${address.fqn}" was not recorded after run ${opts.at}. See what that run did with \`alchemy state history --app ${address.app} --stage ${address.stage}\`.\n`);
        return undefined;
      }
      if (found === undefined) notFound(io, address, session);
      return found;
    }, io.stderr);
    if (record === undefined) return EXIT.failed;
    io.stdout.write(JSON.stringify(record, null, 2) + "\n");
    return EXIT.ok;
  });
}

/**
 * `alchemy state rm <fqn>`: forgets a resource and every record in its
 * resource scope, without calling any delete handler: the things they
 * describe stay where they are, untracked. Warns about records that still
 * depend on a forgotten one. Refuses, changing nothing, when one of them is
 * recorded with `protect: true`, unless `force`.
 *
 * @example
 * await stateRm("shop/dev/backend/db", { state: ".alchemy" }, processIO());
 * // Forgot 2 records (the resources themselves were not deleted): ...
 */
export async function stateRm(fqn: string, opts: StateCommandOptions & { force?: boolean }, io: CliIO): Promise<number> {
  const address = parseFqn(fqn);
  return runCommandBody(io, async () => {
    const where = stateLocationOf(opts, io);
    await checkStageAccess(where, address.app, address.stage, profileAccess(opts, io));
    const startedAt = Date.now();
    return withStateSession(where, async (session) => {
      await session.lockStage(address.scope[0]!, address.scope[1]!, `alchemy state rm ${fqn}`);
      const store = await session.open(address.scope);
      // Listed, not read: a record that cannot be read is exactly what an error may ask to forget.
      if (!(await store.list()).includes(address.id)) {
        notFound(io, address, session);
        return EXIT.failed;
      }
      const below = await session.walk([...address.scope, address.id]);
      if (!opts.force) {
        // A record that cannot be read cannot say it is protected: it may still be forgotten.
        const own = await store.get(address.id).catch(() => undefined);
        const protectedFqns = [...(own?.protect ? [address.fqn] : []), ...below.flatMap((s) => s.records.filter((r) => r.protect).map((r) => r.fqn))];
        if (protectedFqns.length > 0) {
          const [is, it] = protectedFqns.length === 1 ? ["is", "it"] : ["are", "them"];
          throw new StateCommandError(
            `Not forgetting ${address.fqn}: ${protectedFqns.join(", ")} ${is} recorded with protect: true, and alchemy would lose track of ${it} ` +
              `(a later deploy would create ${it} again beside the one that exists). ` +
              `Run \`alchemy state unprotect <fqn>\` first, or pass --force to forget ${it} anyway. Nothing was changed.`,
          );
        }
      }
      // Deepest scopes first and the resource last: if this stops part-way, the
      // resource is still recorded and running the command again finishes the job.
      const forgotten: string[] = [];
      for (const scope of below.reverse()) {
        const child = await session.open(scope.chain);
        for (const record of scope.records) {
          await child.delete(record.id);
          forgotten.push([...scope.chain, record.id].join("/"));
        }
      }
      await store.delete(address.id);
      await recordStageHistory(session, address, { command: "state rm", commandLine: `alchemy state rm ${fqn}`, startedAt }, io);
      forgotten.push(address.fqn);
      forgotten.sort(compare);
      const noun = forgotten.length === 1 ? "record" : "records";
      io.stdout.write(`Forgot ${forgotten.length} ${noun} (the resources themselves were not deleted):\n`);
      writeLines(io, forgotten.map((f) => `  ${f}`));
      await warnDependents(io, session, address, new Set(forgotten));
      return EXIT.ok;
    }, io.stderr);
  });
}

/**
 * `alchemy state unprotect <fqn>`: drops `protect` from one record, under the
 * stage's lock, so that the next run may delete or replace the resource.
 * Nothing else in the record changes; a program that still declares
 * `protect: true` records it again on its next deploy.
 */
export async function stateUnprotect(fqn: string, opts: StateCommandOptions, io: CliIO): Promise<number> {
  const address = parseFqn(fqn);
  return runCommandBody(io, async () => {
    const where = stateLocationOf(opts, io);
    await checkStageAccess(where, address.app, address.stage, profileAccess(opts, io));
    const startedAt = Date.now();
    return withStateSession(where, async (session) => {
      await session.lockStage(address.scope[0]!, address.scope[1]!, `alchemy state unprotect ${fqn}`);
      const store = await session.open(address.scope);
      const record = await store.get(address.id);
      if (!record) {
        notFound(io, address, session);
        return EXIT.failed;
      }
      if (!record.protect) {
        io.stdout.write(`${address.fqn} is not protected; nothing was changed.\n`);
        return EXIT.ok;
      }
      const { protect: _dropped, ...rest } = record;
      await store.set(address.id, { ...rest, seq: record.seq + 1 });
      await recordStageHistory(session, address, { command: "state unprotect", commandLine: `alchemy state unprotect ${fqn}`, startedAt }, io);
      io.stdout.write(
        `${address.fqn} is no longer protected: the next run may delete or replace it. ` +
          "If the program still declares it with protect: true, its next deploy protects it again.\n",
      );
      return EXIT.ok;
    }, io.stderr);
  });
}

/** The history entry of a command that changed the stage of `address` (see command-history.ts). */
async function recordStageHistory(session: StateSession, address: ResourceAddress, run: CommandRun, io: CliIO): Promise<void> {
  const stage = address.scope.slice(0, 2);
  let records: State[];
  try {
    records = (await session.walk(stage)).flatMap((scope) => scope.records);
  } catch (error) {
    // Another record cannot be read (the very case `state rm` is for): the change stands, without an entry; the next run's entry holds the records as they are then.
    io.stderr.write(`! No history entry for this ${run.command}: the stage's records cannot all be read (${(error as Error).message.split(". ")[0]}).\n`);
    return;
  }
  await recordCommandHistory(await session.open(stage), records, run);
}

/** Names of the stages recorded for `app`, sorted. */
async function stagesOf(session: StateSession, app: string): Promise<string[]> {
  return (await (await session.open([app])).listScopes()).sort(compare);
}

function notFound(io: CliIO, address: ResourceAddress, session: StateSession): void {
  io.stderr.write(
    `error: No record "${address.fqn}" in ${session.scopeDir(address.scope)} (state ${session.where}). ` +
      `Check the fqn against \`alchemy state list --app ${address.app} --stage ${address.stage}\`, ` +
      `or point --state at the directory that holds this application's state.\n`,
  );
}

/** Tells on stderr which remaining records of the stage still name a forgotten fqn in their deps. */
async function warnDependents(io: CliIO, session: StateSession, address: ResourceAddress, forgotten: Set<string>): Promise<void> {
  const rows: string[][] = [];
  let scopes: Awaited<ReturnType<StateSession["walk"]>>;
  try {
    scopes = await session.walk([address.app, address.stage]);
  } catch (error) {
    // Another record cannot be read: what was asked is done, and that record's own error says how to fix it.
    io.stderr.write(`warning: could not check which records depend on what was forgotten: ${(error as Error).message}\n`);
    return;
  }
  for (const scope of scopes) {
    for (const record of scope.records) {
      for (const dep of record.deps.filter((d) => forgotten.has(d))) rows.push([`  ${record.fqn}`, "uses", dep]);
    }
  }
  if (rows.length === 0) return;
  rows.sort((a, b) => compare(a[0]!, b[0]!) || compare(a[2]!, b[2]!));
  const one = rows.length === 1;
  io.stderr.write(`warning: ${one ? "a record still depends" : "records still depend"} on what was forgotten:\n`);
  writeLines(io, columns(rows), io.stderr);
  io.stderr.write(
    `alchemy no longer tracks what ${one ? "it uses" : "they use"}. A deploy that still declares a forgotten resource creates it again ` +
      `(add --adopt to take over the one that exists); or forget the dependents too with \`alchemy state rm <fqn>\`.\n`,
  );
}

function writeLines(io: CliIO, lines: string[], to = io.stdout): void {
  for (const line of lines) to.write(line + "\n");
}

