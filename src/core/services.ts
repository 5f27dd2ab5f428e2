/**
 * Services a run shares between its resources: a local Cloudflare runtime, an
 * API client with its rate limiter. A provider names a service by a
 * {@link ServiceKey} it defines; the first resource that asks for it starts it,
 * later ones get the same instance, and whoever owns the {@link Services}
 * disposes them all at the end. An application run owns its own, disposed when
 * it is finalized or released; a launcher that keeps serving across runs
 * (`alchemy dev`) passes in one of its own instead, which outlives each run.
 * Nothing here is global: two runs in one process have their own services
 * unless they are given the same.
 *
 * @module
 */

/** Where a service is started: what it may need of the run that first asks for it. */
export interface ServiceSite {
  /** The directory relative paths and local data (`.alchemy/`) resolve against. */
  readonly rootDir: string;
  /** Reports a warning the way the run does. */
  warn(message: string): void;
}

/** A kind of service: how to start one and how to stop it. Define it once, as a module constant. */
export interface ServiceKey<T> {
  /** Names the service in errors, e.g. "the local Cloudflare runtime (Miniflare)". */
  readonly name: string;
  start(site: ServiceSite): Promise<T>;
  stop(service: T): Promise<void>;
  /**
   * What the service did, for `--json` (e.g. an API client's requests, retries
   * and time spent waiting), keyed by what it is about; JSON values only.
   */
  report?(service: T): Record<string, unknown>;
}

export class Services {
  readonly #started = new Map<ServiceKey<unknown>, Promise<unknown>>();
  #disposed = false;

  /** The service of `key`, started on first use. */
  get<T>(key: ServiceKey<T>, site: ServiceSite): Promise<T> {
    if (this.#disposed) throw new Error(`Cannot start ${key.name}: the run that owned it has ended.`);
    let service = this.#started.get(key as ServiceKey<unknown>) as Promise<T> | undefined;
    if (service === undefined) {
      service = key.start(site);
      this.#started.set(key as ServiceKey<unknown>, service);
      // A failed start is not kept: the next resource that asks tries again.
      service.catch(() => this.#started.delete(key as ServiceKey<unknown>));
    }
    return service;
  }

  /** The service of `key` if it was started, without starting it. */
  peek<T>(key: ServiceKey<T>): Promise<T> | undefined {
    return this.#started.get(key as ServiceKey<unknown>) as Promise<T> | undefined;
  }

  /** The reports of every started service that gives one, merged (later keys win). */
  async reports(): Promise<Record<string, unknown>> {
    const merged: Record<string, unknown> = {};
    for (const [key, service] of this.#started) {
      if (!key.report) continue;
      try {
        Object.assign(merged, key.report(await service));
      } catch {
        // A service that failed to start has nothing to report.
      }
    }
    return merged;
  }

  /** Stops every started service, last started first; the first failure is thrown once all were tried. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    let failure: unknown;
    for (const [key, service] of [...this.#started].reverse()) {
      this.#started.delete(key);
      try {
        await key.stop(await service);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }
}
