/**
 * What the web UI shows, read through a {@link StateSession} (so through each
 * store's `StateStore` interface, never its files): the applications and
 * their stages, one stage's scopes and resources, one resource, a stage's
 * history and graph. Every value that leaves here has its secrets replaced by
 * `[secret]`; sealed ciphertext never leaves either.
 *
 * @module
 */
import { buildStageGraph, type GraphEdge, type GraphNode, type GraphScope } from "../graph/stage-graph.js";
import { redactSecrets } from "../history/history-changes.js";
import type { HistoryEntry } from "../history/history-entry.js";
import { keepsHistory, listRuns } from "../history/stage-history.js";
import { canLock } from "../state/stage-lock.js";
import type { State, StateStore } from "../state/state-store.js";
import { AlchemyError } from "../core/errors.js";
import { lastDeployOf } from "../core/last-deploy.js";
import { listApps, type ScopeRecords, type StateSession } from "../cli/state-access.js";
import { stageAccessRefusal, type ProfileAccess } from "../cli/stage-profile-check.js";
import { parseFqn } from "../cli/state-target.js";
import { compare, lockSummary, stageSummaries, type StageSummary } from "../cli/commands/stages.js";

/** A request the UI cannot answer; `status` is the HTTP status to answer with. */
export class UiRequestError extends AlchemyError {
  override name = "UiRequestError";
  constructor(
    message: string,
    readonly status: 400 | 403 | 404,
  ) {
    super(message);
  }
}

/** The first page: every application the UI may show, with its stages. */
export interface UiOverview {
  /** Where the state is: a directory, `sqlite:<file>`, a redacted PostgreSQL URL. */
  where: string;
  apps: { app: string; stages: StageSummary[] }[];
}

/** The lock of a stage, as the UI shows it: as `alchemy stages` does, plus the holder's command for the banner. */
export type UiLock = NonNullable<StageSummary["lock"]> & { command: string };

/** One resource in a stage's listing. */
export interface UiNode extends GraphNode {
  protect?: true;
  retain?: true;
}

/** One stage: its scopes and resources (the client builds the tree), its dependencies and lock. */
export interface UiStage {
  app: string;
  stage: string;
  where: string;
  nodes: UiNode[];
  edges: GraphEdge[];
  scopes: GraphScope[];
  lock: UiLock | null;
  /** The last deploy the stage's metadata records. */
  lastDeploy: StageSummary["lastDeploy"];
  /** The newest history entry's run id, or `null`. */
  lastRun: string | null;
}

/** One resource's page. */
export interface UiResource {
  app: string;
  stage: string;
  fqn: string;
  kind: string;
  status: State["status"];
  seq: number;
  protect: boolean;
  retain: boolean;
  props: unknown;
  output: unknown;
  data: unknown;
  /** Earlier instances awaiting deletion (a replacement that has not finished). */
  replaced: number;
  /** fqns this resource uses, each with whether the stage has a record of it. */
  dependencies: { fqn: string; missing: boolean }[];
  /** fqns of the resources that use this one. */
  dependents: string[];
  /** The runs that touched this resource, newest first. */
  history: HistoryEntry[];
}

/** Which applications the UI shows: the one named, else every one the store holds. */
export async function appsOf(session: StateSession, app: string | undefined): Promise<string[]> {
  if (app !== undefined) return [app];
  if (session.location.kind === "file") return listApps(session.location.dir);
  return (await (await session.open([])).listScopes()).sort(compare);
}

/** The overview: each application's stages with resources, last deploy and lock. */
export async function readOverview(session: StateSession, apps: readonly string[], access: ProfileAccess): Promise<UiOverview> {
  const found: UiOverview["apps"] = [];
  for (const app of apps) found.push({ app, stages: await stageSummaries(session, app, access) });
  return { where: session.where, apps: found };
}

/**
 * One stage: every record's place, status and dependencies, with the lock.
 *
 * @throws UiRequestError (403) when the profile may not use the stage, (404) when it has no records.
 */
export async function readStage(session: StateSession, app: string, stage: string, access: ProfileAccess): Promise<UiStage> {
  const { records, walked } = await readStageRecords(session, app, stage, access);
  const graph = buildStageGraph(app, stage, walked);
  const flags = new Map(records.map((r) => [r.fqn, r]));
  const nodes: UiNode[] = graph.nodes.map((n) => {
    const r = flags.get(n.fqn);
    return { ...n, ...(r?.protect ? { protect: true as const } : {}), ...(r?.retain ? { retain: true as const } : {}) };
  });
  const store = await session.open([app, stage]);
  const lock = await readLock(store);
  const lastDeploy = lastDeployOf(await store.getStageMeta?.()) ?? null;
  const newest = keepsHistory(store) ? (await store.listHistory(1))[0]?.run ?? null : null;
  return { app, stage, where: session.where, nodes, edges: graph.edges, scopes: graph.scopes, lock, lastDeploy, lastRun: newest };
}

/**
 * A resource's record (secrets as `[secret]`), its dependencies and
 * dependents in the stage, and the runs that touched it.
 *
 * @throws UiRequestError (400) for a malformed fqn, (403) for a stage the profile may not use, (404) when there is no such record.
 */
export async function readResource(session: StateSession, fqn: string, access: ProfileAccess): Promise<UiResource> {
  let address;
  try {
    address = parseFqn(fqn);
  } catch (error) {
    throw new UiRequestError((error as Error).message, 400);
  }
  const { app, stage } = address;
  const { records } = await readStageRecords(session, app, stage, access);
  const record = records.find((r) => r.fqn === fqn);
  if (record === undefined) throw new UiRequestError(`Stage ${app}/${stage} has no record ${fqn} in ${session.where}: it was deleted, or never deployed.`, 404);
  const known = new Set(records.map((r) => r.fqn));
  const store = await session.open([app, stage]);
  const history = keepsHistory(store) ? (await listRuns(store)).filter((e) => e.resources.some((r) => r.fqn === fqn)) : [];
  return {
    app,
    stage,
    fqn,
    kind: record.kind,
    status: record.status,
    seq: record.seq,
    protect: record.protect === true,
    retain: record.retain === true,
    props: redactSecrets(record.props),
    output: redactSecrets(record.output),
    data: redactSecrets(record.data),
    replaced: record.replaced?.length ?? 0,
    dependencies: [...new Set(record.deps)].sort().map((dep) => ({ fqn: dep, missing: !known.has(dep) })),
    dependents: records.filter((r) => r.deps.includes(fqn)).map((r) => r.fqn).sort(),
    history: history.map(redactEntry),
  };
}

/**
 * The stage's runs, newest first, each with its changes (secrets as `[secret]`).
 *
 * @throws UiRequestError (403) for a stage the profile may not use.
 */
export async function readHistory(session: StateSession, app: string, stage: string, access: ProfileAccess, limit?: number): Promise<{ app: string; stage: string; kept: boolean; entries: HistoryEntry[] }> {
  await checkAccess(session, app, stage, access);
  const store = await session.open([app, stage]);
  if (!keepsHistory(store)) return { app, stage, kept: false, entries: [] };
  return { app, stage, kept: true, entries: (await listRuns(store, limit)).map(redactEntry) };
}

/**
 * A stage reduced to what its page shows changing: each record's place,
 * version and status, the lock's holder and the newest history entry.
 */
export async function stageFingerprint(session: StateSession, app: string, stage: string, access: ProfileAccess): Promise<string> {
  await checkAccess(session, app, stage, access);
  const lines = (await session.walk([app, stage])).flatMap((s) => s.records.map((r) => `${r.fqn} ${r.seq} ${r.status}`));
  const store = await session.open([app, stage]);
  lines.push(`lock ${JSON.stringify(await readLock(store))}`);
  if (keepsHistory(store)) lines.push(`run ${(await store.listHistory(1))[0]?.run ?? "-"}`);
  return lines.join("\n");
}

/**
 * Every record of a stage, its scopes walked through the stores.
 *
 * @throws UiRequestError (403) for a stage the profile may not use, (404) for a stage without records.
 */
export async function readStageRecords(session: StateSession, app: string, stage: string, access: ProfileAccess): Promise<{ records: State[]; walked: ScopeRecords[] }> {
  await checkAccess(session, app, stage, access);
  const walked = await session.walk([app, stage]);
  const records = walked.flatMap((s) => s.records);
  if (records.length === 0) throw new UiRequestError(`Stage ${app}/${stage} has no records in ${session.where}: deploy it first, or pick another stage.`, 404);
  return { records, walked };
}

/** The stage's lock as the page shows it, or `null` (also for a store that cannot lock). */
async function readLock(store: StateStore): Promise<UiLock | null> {
  const info = canLock(store) ? await store.lockInfo() : undefined;
  return info ? { ...lockSummary(info), command: info.holder.command } : null;
}

async function checkAccess(session: StateSession, app: string, stage: string, access: ProfileAccess): Promise<void> {
  const refused = await stageAccessRefusal(session.location, app, stage, access, await session.open([app, stage]));
  if (refused) throw new UiRequestError(refused.message, 403);
}

/** An entry with every before/after value redacted again: a hand-edited history file could hold anything. */
function redactEntry(entry: HistoryEntry): HistoryEntry {
  return {
    ...entry,
    resources: entry.resources.map((r) => ({ ...r, changes: r.changes.map((c) => ({ path: c.path, before: redactSecrets(c.before), after: redactSecrets(c.after) })) })),
  };
}
