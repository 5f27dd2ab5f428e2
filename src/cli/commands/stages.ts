/**
 * `alchemy stages`: every stage of an application in the store, with its
 * number of resources, its last deploy (when and by whom) and its lock. A
 * stage the command's profile may not use (by its `stageProfileMapping`) is
 * listed by name only, with why, and nothing more of it is read.
 *
 * @module
 */
import { lastDeployOf, type LastDeploy } from "../../core/last-deploy.js";
import { isUnfinished } from "../../graph/stage-graph.js";
import { canLock, describeHolder, isLockStale, type LockInfo } from "../../state/stage-lock.js";
import { describeLocation } from "../../state/store-url.js";
import { EXIT, runCommandBody } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { listApps, resolveApp, withStateSession, type StateSession } from "../state-access.js";
import { stateLocationOf } from "../state-target.js";
import { profileAccess, stageAccessRefusal, type ProfileAccess } from "../stage-profile-check.js";
import type { StateCommandOptions } from "./state.js";

/** One element of `alchemy stages --json`. */
export interface StageSummary {
  stage: string;
  /** Records in the stage, nested and resource scopes included; `null` for a stage the profile may not use. */
  resources: number | null;
  /** Of those, records a run left `creating`, `updating` or `deleting` (it stopped part-way; the next deploy finishes them); `null` as `resources`. */
  unfinished: number | null;
  /** When a record of the stage last changed (ISO 8601), or `null` when the store cannot tell. */
  updatedAt: string | null;
  /** The last deploy the stage's metadata records, or `null` (never deployed to the end, or by an older version). */
  lastDeploy: LastDeploy | null;
  /** The run holding the stage's lock, or `null`. */
  lock: { holder: string; acquiredAt: string; stale: boolean } | null;
  /** Why the command's profile may not use the stage (nothing else of it was read), or `null`. */
  denied: StageDenial | null;
}

/** A stage the command's profile may not use, by its stageProfileMapping. */
export interface StageDenial {
  profile: string;
  /** The profiles the deciding mapping allows on the stage. */
  allowed: string[];
  /** The full refusal: which mapping, where it came from, how to fix it. */
  message: string;
}

/**
 * `alchemy stages` (also `alchemy state stages`): one line per stage.
 *
 * @example
 * await listStages({ state: ".alchemy", json: false }, processIO());
 * // dev     3 resources  deployed 2026-11-20T09:12:00.000Z (1d ago) by ada@laptop
 * // pr-12   5 resources  deployed 2026-11-02T17:40:10.000Z (18d ago) by octocat (GitHub Actions)
 */
export async function listStages(opts: StateCommandOptions & { json: boolean }, io: CliIO): Promise<number> {
  return runCommandBody(io, async () => {
    const where = stateLocationOf(opts, io);
    const app = resolveApp(where, opts.app);
    const access = profileAccess(opts, io);
    const summaries = await withStateSession(where, (session) => stageSummaries(session, app, access), io.stderr);
    if (opts.json) {
      io.stdout.write(JSON.stringify(summaries, null, 2) + "\n");
    } else if (summaries.length === 0) {
      const apps = where.kind === "file" ? listApps(where.dir).filter((a) => a !== app) : [];
      const hint = apps.length > 0 ? ` Applications with state there: ${apps.join(", ")}; choose one with --app <name>.` : "";
      io.stdout.write(`No stages recorded for app "${app}" in ${describeLocation(where)}.${hint}\n`);
    } else {
      const now = Date.now();
      const rows = summaries.map((s) =>
        s.denied ? [s.stage, "not shown", describeDenial(s.denied)] : [s.stage, `${s.resources} ${s.resources === 1 ? "resource" : "resources"}`, describeActivity(s, now)],
      );
      for (const line of columns(rows)) io.stdout.write(line + "\n");
    }
    return EXIT.ok;
  });
}

/**
 * The summary of every stage of `app` that holds records, sorted by name; a
 * stage `access` may not use is summarised by its denial only.
 */
export async function stageSummaries(session: StateSession, app: string, access: ProfileAccess): Promise<StageSummary[]> {
  const stages = (await (await session.open([app])).listScopes()).sort(compare);
  const found: StageSummary[] = [];
  for (const stage of stages) {
    const refused = await stageAccessRefusal(session.location, app, stage, access);
    if (refused) {
      const denied = { profile: access.profile, allowed: [...(refused.allowed ?? [])], message: refused.message };
      found.push({ stage, resources: null, unfinished: null, updatedAt: null, lastDeploy: null, lock: null, denied });
      continue;
    }
    let resources = 0;
    let unfinished = 0;
    let newest: Date | undefined;
    for (const scope of await session.walk([app, stage])) {
      resources += scope.records.length;
      unfinished += scope.records.filter((r) => isUnfinished(r.status)).length;
      const at = await (await session.open(scope.chain)).updatedAt?.();
      if (at !== undefined && (newest === undefined || at > newest)) newest = at;
    }
    const stageStore = await session.open([app, stage]);
    const lastDeploy = lastDeployOf(await stageStore.getStageMeta?.()) ?? null;
    const info = canLock(stageStore) ? await stageStore.lockInfo() : undefined;
    const lock = info ? lockSummary(info) : null;
    found.push({ stage, resources, unfinished, updatedAt: newest?.toISOString() ?? null, lastDeploy, lock, denied: null });
  }
  return found;
}

/** A stage's lock as the listings show it: who holds it, since when, and whether its lease ran out. */
export function lockSummary(info: LockInfo): NonNullable<StageSummary["lock"]> {
  return { holder: describeHolder(info.holder), acquiredAt: info.acquiredAt.toISOString(), stale: isLockStale(info) };
}

/**
 * When the stage was last deployed (else last changed), by whom, and its lock.
 *
 * @example
 * describeActivity(summary, Date.now()); // "deployed 2026-11-20T09:12:00.000Z (1d ago) by ada@laptop"
 */
export function describeActivity(s: StageSummary, now: number): string {
  const parts: string[] = [];
  if (s.lastDeploy) {
    parts.push(`deployed ${s.lastDeploy.at} (${ago(Date.parse(s.lastDeploy.at), now)}) by ${s.lastDeploy.by}${s.lastDeploy.ok ? "" : ", with failures"}`);
  } else if (s.updatedAt) {
    parts.push(`no deploy recorded, updated ${s.updatedAt} (${ago(Date.parse(s.updatedAt), now)})`);
  } else {
    parts.push("no deploy recorded");
  }
  if (s.unfinished) {
    const running = s.lock !== null && !s.lock.stale;
    parts.push(running ? `${s.unfinished} in progress` : `${s.unfinished} left unfinished by a run that stopped (creating/updating/deleting; the next deploy finishes them)`);
  }
  if (s.lock) parts.push(`${s.lock.stale ? "stale lock" : "locked"} by ${s.lock.holder}`);
  return parts.join("; ");
}

/**
 * Why a stage is not shown, in one line.
 *
 * @example
 * describeDenial({ profile: "ci", allowed: ["prod"], message }); // 'profile "ci" may not use it (allowed: "prod"); run with --profile prod'
 */
export function describeDenial(denied: StageDenial): string {
  if (denied.allowed.length === 0) return `profile "${denied.profile}" may not use it (no profile may)`;
  return `profile "${denied.profile}" may not use it (allowed: ${denied.allowed.map((p) => JSON.stringify(p)).join(", ")}); run with --profile ${denied.allowed[0]}`;
}

/** `3m ago`, `5h ago`, `12d ago`. */
export function ago(at: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** Pads every column but the last to its widest cell, two spaces apart. */
export function columns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
}

/** Code-point order: the same on every machine, unlike `localeCompare`. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
