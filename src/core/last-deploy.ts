/**
 * What a run leaves in its stage's metadata about itself: `lastDeploy` (when,
 * by whom, with which command) after a deploy of a stage that holds
 * resources, `nestedStores` (see nested-stores.ts) while nested scopes on
 * other stores hold records, and no metadata at all once the stage is empty
 * in every store, so that a destroyed stage leaves nothing behind in any
 * store. `alchemy stages` shows `lastDeploy`, and `alchemy stages prune` ages
 * stages by it.
 *
 * @module
 */
import { currentHolder } from "../state/stage-lock.js";
import type { StageMeta } from "../state/state-store.js";
import { nestedStoresOf, recordsInNestedStores, unopenedNestedStoreWarning, type NestedStores } from "./nested-stores.js";
import type { Scope } from "./scope.js";

/** The `lastDeploy` entry of a stage's metadata. */
export interface LastDeploy {
  /** When the deploy ended (ISO 8601). */
  at: string;
  /** Who ran it: `user@host`, or the GitHub actor under GitHub Actions. */
  by: string;
  /** The command line, e.g. `alchemy deploy --stage pr-12`. */
  command: string;
  /** Whether the deploy finished without failures. */
  ok: boolean;
}

/**
 * Records the end of a run in the metadata of its stage: a deploy (phase
 * `up`) of a stage that holds resources sets `lastDeploy`; every writing run
 * updates `nestedStores`; a run of any writing phase that leaves the stage
 * empty removes the metadata. The stage is empty only when its own store
 * holds no record and no nested scope on another store does: one this run
 * did not open (its block did not run) keeps what it held last time, with a
 * warning. Other keys of the metadata (`secrets`, ...) are kept as they are.
 * Stores without stage metadata are left alone.
 *
 * @example
 * await recordRunEnd(app.stage, { deployed: true, command: "alchemy deploy", ok: true });
 */
export async function recordRunEnd(stage: Scope, run: { deployed: boolean; command: string; ok: boolean }): Promise<void> {
  const store = stage.store;
  if (!store.getStageMeta || !store.setStageMeta) return;
  const meta = await store.getStageMeta();
  const before = nestedStoresOf(meta);
  const opened = await recordsInNestedStores(stage);
  const nested: NestedStores = {};
  for (const [path, records] of Object.entries(before)) {
    if (opened.has(path)) continue;
    nested[path] = records;
    stage.context.warn(unopenedNestedStoreWarning(stage, path, records));
  }
  for (const [path, records] of opened) if (records > 0) nested[path] = records;
  const empty = Object.keys(nested).length === 0 && (await store.count()) === 0 && (await store.listScopes()).length === 0;
  if (empty) {
    if (meta !== undefined) await store.deleteStageMeta?.();
    return;
  }
  const nestedChanged = JSON.stringify(sorted(nested)) !== JSON.stringify(sorted(before));
  if (!run.deployed && !nestedChanged) return;
  const next: StageMeta = { ...meta };
  if (run.deployed) next.lastDeploy = { at: new Date().toISOString(), by: deployer(run.command), command: run.command, ok: run.ok } satisfies LastDeploy;
  if (Object.keys(nested).length > 0) next.nestedStores = sorted(nested);
  else delete next.nestedStores;
  await store.setStageMeta(next);
}

/**
 * The `lastDeploy` entry of `meta`, or `undefined` when it has none (a stage
 * deployed by an older version, or never deployed to the end).
 *
 * @example
 * lastDeployOf({ lastDeploy: { at: "2026-01-02T03:04:05.000Z", by: "ada@laptop", command: "alchemy deploy", ok: true } });
 */
export function lastDeployOf(meta: StageMeta | undefined): LastDeploy | undefined {
  const entry = meta?.lastDeploy as Partial<LastDeploy> | undefined;
  if (typeof entry !== "object" || entry === null || typeof entry.at !== "string" || Number.isNaN(Date.parse(entry.at))) return undefined;
  return {
    at: entry.at,
    by: typeof entry.by === "string" ? entry.by : "unknown",
    command: typeof entry.command === "string" ? entry.command : "",
    ok: entry.ok !== false,
  };
}

/** Who runs `command`: `user@host`, or the GitHub actor under GitHub Actions. */
export function deployer(command: string): string {
  if (process.env.GITHUB_ACTIONS === "true" && process.env.GITHUB_ACTOR) return `${process.env.GITHUB_ACTOR} (GitHub Actions)`;
  const { user, host } = currentHolder(command);
  return `${user}@${host}`;
}

function sorted(entries: NestedStores): NestedStores {
  return Object.fromEntries(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
