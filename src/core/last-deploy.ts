/**
 * What a run leaves in its stage's metadata about itself: `lastDeploy` (when,
 * by whom, with which command) after a deploy of a stage that holds
 * resources, and no metadata at all once the stage is empty, so that a
 * destroyed stage leaves nothing behind in any store. `alchemy stages` shows
 * `lastDeploy`, and `alchemy stages prune` ages stages by it.
 *
 * @module
 */
import { currentHolder } from "../state/stage-lock.js";
import type { StageMeta, StateStore } from "../state/state-store.js";

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
 * `up`) of a stage that holds resources sets `lastDeploy`; a run of any
 * writing phase that leaves the stage empty removes the metadata. Stores
 * without stage metadata are left alone.
 *
 * @example
 * await recordRunEnd(stageStore, { deployed: true, command: "alchemy deploy", ok: true });
 */
export async function recordRunEnd(store: StateStore, run: { deployed: boolean; command: string; ok: boolean }): Promise<void> {
  if (!store.getStageMeta || !store.setStageMeta) return;
  const empty = (await store.count()) === 0 && (await store.listScopes()).length === 0;
  const meta = await store.getStageMeta();
  if (empty) {
    if (meta !== undefined) await store.deleteStageMeta?.();
    return;
  }
  if (!run.deployed) return;
  const lastDeploy: LastDeploy = { at: new Date().toISOString(), by: deployer(run.command), command: run.command, ok: run.ok };
  await store.setStageMeta({ ...meta, lastDeploy });
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

function deployer(command: string): string {
  if (process.env.GITHUB_ACTIONS === "true" && process.env.GITHUB_ACTOR) return `${process.env.GITHUB_ACTOR} (GitHub Actions)`;
  const { user, host } = currentHolder(command);
  return `${user}@${host}`;
}
