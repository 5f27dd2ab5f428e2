/**
 * What `alchemy dev` watches besides the program: the files each Worker's
 * bundle was made from, the files a failed bundle points at (so that fixing
 * them runs the program again), and D1 migration directories. Kept per run's
 * services, which under `alchemy dev` are the session's.
 *
 * @module
 */
import type { Scope } from "../../core/scope.js";
import type { ServiceKey, Services } from "../../core/services.js";

const sources: ServiceKey<Set<string>> = {
  name: "the source files of the local resources",
  start: async () => new Set(),
  stop: async (set) => set.clear(),
};

/** Notes files or directories (absolute paths) whose change should run the program again under `alchemy dev`. */
export async function noteSources(scope: Scope | undefined, paths: Iterable<string>): Promise<void> {
  if (scope === undefined || !scope.context.options.local || scope.phase !== "up") return;
  const set = await scope.context.service(sources);
  for (const p of paths) set.add(p);
}

/** Every path noted with `services` so far. */
export async function devSources(services: Services): Promise<string[]> {
  return [...(await (services.peek(sources) ?? Promise.resolve(new Set<string>())))];
}
