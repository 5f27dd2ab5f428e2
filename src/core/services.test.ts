import { describe, expect, it } from "vitest";
import { Resource, type Context } from "alchemy";
import { Services, type ServiceKey } from "./services.js";
import { alchemy, memoryState } from "./world.test-fixture.js";

/** A service that counts its starts and stops. */
function counter() {
  const log: string[] = [];
  const key: ServiceKey<{ n: number }> = {
    name: "the test counter",
    async start(site) {
      log.push(`start in ${site.rootDir}`);
      return { n: log.length };
    },
    async stop(service) {
      log.push(`stop ${service.n}`);
    },
  };
  const Uses = Resource("test::UsesService", async function (this: Context<{ n: number }>, _id: string, _props: object) {
    if (this.phase === "delete") return this.destroy();
    return { n: (await this.scope.context.service(key)).n };
  });
  return { log, key, Uses };
}

describe("services a run's resources share", () => {
  it("starts a service once for every resource that asks, and stops it when the application is finalized", async () => {
    const { log, Uses } = counter();
    const app = await alchemy("app", { ...memoryState().options(), rootDir: "/tmp/services-root" });
    const [a, b] = await Promise.all([Uses("a", {}), Uses("b", {})]);
    expect(a.n).toBe(b.n);
    expect(log).toEqual(["start in /tmp/services-root"]);
    await app.finalize();
    expect(log).toEqual(["start in /tmp/services-root", "stop 1"]);
  });

  it("stops it too when a failed run is released", async () => {
    const { log, Uses } = counter();
    const app = await alchemy("app", memoryState().options());
    await Uses("a", {});
    await app.release();
    expect(log.at(-1)).toBe("stop 1");
  });

  it("leaves services given by a launcher running for the next run, until their owner disposes them", async () => {
    const { log, key } = counter();
    const services = new Services();
    const site = { rootDir: "/", warn: () => undefined };
    const first = await services.get(key, site);
    expect(await services.get(key, site)).toBe(first);
    await services.dispose();
    expect(log).toEqual(["start in /", "stop 1"]);
    expect(() => services.get(key, site)).toThrow(/has ended/);
  });

  it("retries a service whose start failed at the next request", async () => {
    let attempts = 0;
    const key: ServiceKey<string> = {
      name: "flaky",
      start: async () => {
        if (++attempts === 1) throw new Error("port in use");
        return "up";
      },
      stop: async () => undefined,
    };
    const services = new Services();
    const site = { rootDir: "/", warn: () => undefined };
    await expect(services.get(key, site)).rejects.toThrow("port in use");
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await services.get(key, site)).toBe("up");
  });

  it("gives what each started service reports, for --json, before the application stops them", async () => {
    const key: ServiceKey<{ calls: number }> = {
      name: "an API client",
      start: async () => ({ calls: 0 }),
      stop: async () => undefined,
      report: (service) => ({ api: { requests: service.calls } }),
    };
    const Calls = Resource("test::Calls", async function (this: Context<{ ok: boolean }>, _id: string, _props: object) {
      if (this.phase === "delete") return this.destroy();
      (await this.scope.context.service(key)).calls += 2;
      return { ok: true };
    });
    const app = await alchemy("app", memoryState().options());
    await Calls("a", {});
    await app.finalize();
    expect(app.context.serviceReports).toEqual({ api: { requests: 2 } });
  });
});
