/**
 * `alchemy dev`: deploys the program locally (providers on their local
 * runtime: Cloudflare on Miniflare) and keeps serving. An edit of the program,
 * or of any source file of a Worker, runs the program again, as a deploy:
 * changed Workers are served anew on the same URL, added resources appear,
 * removed ones are deleted. A run that fails (a syntax error) changes nothing:
 * what was served stays served. Ctrl-C stops the local runtime and exits 0.
 *
 * @module
 */
import { statSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";
import { Services } from "../../core/services.js";
import { resolveEntry } from "../entry.js";
import type { CliIO } from "../io.js";
import { executeRun, type RunCommandOptions } from "./run.js";

/** Flags of `alchemy dev`. */
export type DevOptions = Pick<RunCommandOptions, "command" | "state" | "stage" | "profile" | "quiet" | "verbose" | "lockTimeoutMs" | "allowDeletes">;

/** Files whose change runs the program again. */
const SOURCE = /\.(?:[cm]?[jt]sx?|json|sql)$/;

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function inodeOf(p: string): number | undefined {
  try {
    return statSync(p).ino;
  } catch {
    return undefined;
  }
}

/** How long after the last change of a burst (an editor's save) the program runs again. */
const SETTLE_MS = 60;

/** Runs `alchemy dev` until Ctrl-C; resolves to the exit code. */
export async function devCommand(entryArg: string | undefined, opts: DevOptions, io: CliIO): Promise<number> {
  const entry = resolveEntry(entryArg, io.cwd);
  const services = new Services();
  const { localWorkerUrls } = await import("../../providers/cloudflare/worker.js");
  const { devSources } = await import("../../providers/cloudflare/dev-sources.js");
  const shown = new Map<string, string>();
  let generation = 0;
  let stopping = false;
  let running: Promise<void> | undefined;
  let again = false;
  /** By directory, with the directory's inode: one recreated under the same path is watched anew. */
  const watchers = new Map<string, { watcher: FSWatcher; ino: number }>();
  let settle: NodeJS.Timeout | undefined;

  const runOptions: RunCommandOptions = {
    ...opts,
    json: false,
    quiet: opts.quiet,
    force: false,
    yes: true,
    adopt: false,
    detailedExitcode: false,
    local: true,
  };

  const runOnce = async () => {
    generation++;
    if (generation > 1) io.stderr.write(`\nChange seen: running ${path.relative(io.cwd, entry) || entry} again\n`);
    const outcome = await executeRun("deploy", entry, runOptions, io, { importQuery: `?alchemy-dev=${generation}`, services });
    if (outcome.exitCode !== 0 && generation > 1) io.stderr.write("The run failed: what was served before is still served. Fix it and save again.\n");
    const urls = await localWorkerUrls(services);
    for (const [fqn, url] of urls) {
      if (shown.get(fqn) === url) continue;
      shown.set(fqn, url);
      io.stdout.write(`Ready: ${fqn} on ${url}\n`);
    }
    for (const fqn of shown.keys()) if (!urls.has(fqn)) shown.delete(fqn);
    rewatch([entry, ...(await devSources(services))]);
  };

  const schedule = () => {
    if (stopping) return;
    if (running) {
      again = true;
      return;
    }
    running = runOnce()
      .catch((error: unknown) => void io.stderr.write(`${(error as Error).message}\n`))
      .finally(() => {
        running = undefined;
        if (again && !stopping) {
          again = false;
          schedule();
        }
      });
  };

  /**
   * Watches the directories of `paths` (a file's directory, since an editor may
   * replace a file rather than write it; a directory itself), reacting to source
   * files only: not to .alchemy/, node_modules or dotfiles. A directory watched
   * already keeps its watcher: closing it would drop a change saved while the
   * run that just ended was finishing, an event not yet delivered.
   */
  const rewatch = (paths: string[]) => {
    const dirs = new Set(paths.map((p) => (isDirectory(p) ? p : path.dirname(p))));
    for (const [dir, { watcher, ino }] of watchers) {
      if (dirs.has(dir) && inodeOf(dir) === ino) continue;
      watcher.close();
      watchers.delete(dir);
    }
    for (const dir of dirs) {
      if (watchers.has(dir)) continue;
      try {
        const ino = inodeOf(dir);
        const watcher = watch(dir, (_event, name) => {
          if (name === null || !SOURCE.test(name.toString()) || name.toString().startsWith(".")) return;
          clearTimeout(settle);
          settle = setTimeout(schedule, SETTLE_MS);
        });
        if (ino !== undefined) watchers.set(dir, { watcher, ino });
        else watcher.close();
      } catch {
        // gone meanwhile: the next run notes what is there
      }
    }
  };

  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });

  schedule();
  await running;
  if (!stopping) io.stderr.write(`Watching ${path.relative(io.cwd, entry) || entry} and the Workers' sources; Ctrl-C stops.\n`);
  await stopped;
  clearTimeout(settle);
  for (const { watcher } of watchers.values()) watcher.close();
  await running;
  await services.dispose();
  io.stderr.write("Stopped: the local runtime is shut down.\n");
  // Ctrl-C is how dev ends, whatever the last run came to: exit 0.
  return 0;
}
