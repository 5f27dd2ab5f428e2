/**
 * The local Cloudflare runtime as a run's service: started by the first
 * resource of a local run that needs it, stopped when the run ends.
 *
 * @module
 */
import path from "node:path";
import type { ServiceKey } from "../../../core/services.js";
import { loadMiniflare } from "./load-miniflare.js";
import { LocalBackend } from "./local-backend.js";
import { LocalRuntime } from "./local-runtime.js";

/**
 * The directory under a run's root where local data lives. The `~` keeps it
 * apart from the filesystem state store's `<app>` directories (an application
 * name never contains `~`).
 */
export const LOCAL_PERSIST_DIR = path.join(".alchemy", "~local");

/**
 * The {@link LocalBackend} of a run, on a {@link LocalRuntime} persisting to
 * `<rootDir>/.alchemy/~local`. Starting it loads Miniflare (and fails, saying
 * how to install it, when it is missing); workerd starts on the first change.
 *
 * @example
 * const backend = await run.service(localRuntimeService);
 * await backend.createKVNamespace("my-app-sessions", { adopt: false });
 */
export const localRuntimeService: ServiceKey<LocalBackend> = {
  name: "the local Cloudflare runtime (Miniflare)",
  async start(site) {
    await loadMiniflare(site.rootDir);
    return new LocalBackend(new LocalRuntime({ persistRoot: path.resolve(site.rootDir, LOCAL_PERSIST_DIR), warn: (message) => site.warn(message) }));
  },
  stop(backend) {
    return backend.dispose();
  },
};
