/**
 * `alchemy stages prune`: destroys stale stages (typically the `pr-*` previews
 * whose pull request closed without its destroy job running), one by one.
 *
 * Each stage is destroyed by running the program in the destroy phase, in
 * this process, exactly as `alchemy destroy --stage <stage> --force` would:
 * under that stage's own lock, dependents first. Once the lock is held the
 * stage's last deploy is read again, so a stage deployed between the listing
 * and its turn is kept. A stage the command's profile may not use (by its
 * `stageProfileMapping`) is skipped, and each destroy runs with that profile,
 * so the engine checks it again.
 *
 * @module
 */
import { EXIT, runCommandBody } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { resolveApp, withStateSession } from "../state-access.js";
import { stateLocationOf } from "../state-target.js";
import { profileAccess } from "../stage-profile-check.js";
import { executeRun, type RunCommandOptions } from "./run.js";
import { ago, describeDenial, stageSummaries, type StageSummary } from "./stages.js";
import type { StateCommandOptions } from "./state.js";

/** Flags of `alchemy stages prune`. */
export interface PruneOptions extends StateCommandOptions {
  /** Glob on stage names: `*` matches any run of characters, `?` one character. */
  match: string;
  /** Destroy stages last deployed (else last changed) longer ago than this. */
  olderThanMs: number;
  /** `--older-than` as typed, for messages. */
  olderThan: string;
  /** Stages never destroyed, whatever their age. */
  keep: string[];
  dryRun: boolean;
  /** The program (default: ./alchemy.run.ts, then .js, .mjs). */
  entry?: string;
  /** How each destroy runs and reports (its stage, profile and confirmation are set here). */
  run: Omit<RunCommandOptions, "stage" | "profile" | "force" | "yes" | "json" | "detailedExitcode" | "adopt">;
}

/** Why a matching stage is left alone. */
interface Skipped {
  stage: string;
  reason: string;
}

/**
 * Lists the stages matching `--match`, picks those older than `--older-than`
 * that are neither kept nor locked by a live run, and destroys them in turn.
 * Exit 0 when every picked stage was destroyed (or under `--dry-run`), 1 when
 * one failed, 130/143 when interrupted (the stages after it are not touched).
 *
 * @example
 * await pruneStages({ state: ".alchemy", match: "pr-*", olderThanMs: 7 * 86_400_000, olderThan: "7d", keep: [], dryRun: true, run }, io);
 */
export async function pruneStages(opts: PruneOptions, io: CliIO): Promise<number> {
  return runCommandBody(io, async () => {
    const where = stateLocationOf(opts, io);
    const app = resolveApp(where, opts.app);
    const access = profileAccess(opts, io);
    const summaries = await withStateSession(where, (session) => stageSummaries(session, app, access), io.stderr);
    const now = Date.now();
    const cutoff = now - opts.olderThanMs;
    const pattern = globPattern(opts.match);
    const picked: StageSummary[] = [];
    const skipped: Skipped[] = [];
    let younger = 0;
    for (const summary of summaries.filter((s) => pattern.test(s.stage))) {
      const at = lastActivity(summary);
      if (summary.denied) skipped.push({ stage: summary.stage, reason: describeDenial(summary.denied) });
      else if (opts.keep.includes(summary.stage)) skipped.push({ stage: summary.stage, reason: "kept by --keep" });
      else if (at === undefined) skipped.push({ stage: summary.stage, reason: "no deploy or update time recorded; destroy it with alchemy destroy if it is stale" });
      else if (at > cutoff) younger++;
      else if (summary.lock && !summary.lock.stale) skipped.push({ stage: summary.stage, reason: `locked by ${summary.lock.holder}` });
      else picked.push(summary);
    }

    const out = (line: string) => io.stdout.write(line + "\n");
    const header = `${picked.length} of ${summaries.length} stage(s) of ${app} match "${opts.match}" with no deploy for ${opts.olderThan}`;
    out(`${header}${younger ? ` (${younger} more matching deployed since)` : ""}${picked.length ? ":" : "."}`);
    for (const s of picked) out(`  ${s.stage}  ${describeStale(s, now)}`);
    for (const s of skipped) out(`  skipped ${s.stage}: ${s.reason}`);
    if (opts.dryRun || picked.length === 0) {
      if (opts.dryRun && picked.length) out("Dry run: nothing was destroyed.");
      return EXIT.ok;
    }

    const destroyed: string[] = [];
    const failed: string[] = [];
    let deleted = 0;
    for (const summary of picked) {
      out(`\nDestroying ${app}/${summary.stage}...`);
      let redeployed: string | undefined;
      const outcome = await executeRun(
        "destroy",
        opts.entry,
        { ...opts.run, stage: summary.stage, profile: opts.profile, force: true, yes: true, json: false, detailedExitcode: false, adopt: false },
        io,
        {
          importQuery: `?stage=${encodeURIComponent(summary.stage)}`,
          confirmDestroy: async ({ lastDeploy }) => {
            if (lastDeploy && Date.parse(lastDeploy.at) > cutoff) redeployed = lastDeploy.at;
            return redeployed === undefined;
          },
        },
      );
      if (outcome.interrupted) {
        out(`Stopped: ${summary.stage} was interrupted; the stages after it were not touched.`);
        return outcome.exitCode;
      }
      if (redeployed !== undefined) skipped.push({ stage: summary.stage, reason: `deployed again at ${redeployed}, after the listing` });
      else if (outcome.exitCode === EXIT.ok) {
        destroyed.push(summary.stage);
        deleted += outcome.summary.deleted;
      } else failed.push(summary.stage);
    }

    out("");
    out(`Pruned ${destroyed.length} stage(s) of ${app}, ${deleted} resource(s) deleted${destroyed.length ? `: ${destroyed.join(", ")}` : ""}.`);
    for (const s of skipped.filter((s) => picked.some((p) => p.stage === s.stage))) out(`Kept ${s.stage}: ${s.reason}.`);
    if (failed.length) {
      out(`Failed: ${failed.join(", ")} (errors above); their remaining resources are still recorded. Run the prune again, or alchemy destroy --stage <stage>.`);
      return EXIT.failed;
    }
    return EXIT.ok;
  });
}

/** When the stage was last deployed, else last changed (ms since the epoch). */
function lastActivity(s: StageSummary): number | undefined {
  const at = s.lastDeploy?.at ?? s.updatedAt;
  return at === null || at === undefined ? undefined : Date.parse(at);
}

function describeStale(s: StageSummary, now: number): string {
  const resources = `${s.resources} resource(s)`;
  if (s.lastDeploy) return `${resources}, deployed ${ago(Date.parse(s.lastDeploy.at), now)} by ${s.lastDeploy.by}`;
  return `${resources}, no deploy recorded, last changed ${ago(Date.parse(s.updatedAt!), now)}`;
}

/**
 * The whole-name pattern of a glob on stage names: `*` is any run of
 * characters, `?` any one; everything else is literal.
 *
 * @example
 * globPattern("pr-*").test("pr-12"); // true
 */
export function globPattern(glob: string): RegExp {
  const body = [...glob].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&"))).join("");
  return new RegExp(`^${body}$`);
}
