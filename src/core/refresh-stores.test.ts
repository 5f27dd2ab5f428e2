import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import alchemy, { type AlchemyOptions, type Drift } from "alchemy";
import { File, Folder } from "alchemy/fs";
import { parseStoreUrl, storeFactory } from "../state/store-url.js";
import { persistentStoreUrls } from "../state/store-urls.test-fixture.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const site = async () => {
  const pages = await Folder("pages", { path: "site" });
  await File("index", { folder: pages, path: "index.html", content: "<h1>Hi</h1>" });
  await File("about", { folder: pages, path: "about.html", content: "<p>About</p>" });
};

describe("a refresh on each persistent store", () => {
  it.each(persistentStoreUrls("alchemy_refresh", cleanups))("records drift and removes a gone record, then deploy puts the files back, on %s", async (_name, url) => {
    const root = await mkdtemp(path.join(tmpdir(), "alchemy-refresh-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const stateStore = storeFactory(parseStoreUrl(await url(), root));
    const run = async (options: AlchemyOptions = {}) => {
      const drift: Drift[] = [];
      const app = await alchemy("shop", { stage: "dev", rootDir: root, quiet: true, stateStore, onDrift: (d) => d.status !== "in-sync" && drift.push(d), ...options });
      await site();
      await app.finalize();
      return { app, drift, plan: app.plan.filter((e) => e.action !== "noop").map((e) => `${e.action} ${e.fqn}`) };
    };
    await run();
    await writeFile(path.join(root, "site/index.html"), "<h1>edited by hand</h1>");
    await rm(path.join(root, "site/about.html"));

    const refreshed = await run({ phase: "refresh" });
    expect(refreshed.drift.map((d) => `${d.status} ${d.fqn}`)).toEqual(["drifted shop/dev/index", "gone shop/dev/about"]);
    expect(await readFile(path.join(root, "site/index.html"), "utf8")).toBe("<h1>edited by hand</h1>");

    // What refresh recorded is what the store now holds: a plan without --refresh sees it.
    const planned = await run({ phase: "plan" });
    expect(planned.plan).toEqual(["update shop/dev/index", "create shop/dev/about"]);
    expect(planned.app.plan.find((e) => e.fqn === "shop/dev/index")?.changes).toEqual([{ path: "content", before: "<h1>edited by hand</h1>", after: "<h1>Hi</h1>" }]);

    await run();
    expect(await readFile(path.join(root, "site/index.html"), "utf8")).toBe("<h1>Hi</h1>");
    expect(existsSync(path.join(root, "site/about.html"))).toBe(true);
    expect((await run({ phase: "plan", refresh: true })).drift).toEqual([]);
  });
});

describe("alchemy refresh and the stage lock", () => {
  it("is refused while another run holds the stage lock, and records nothing", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "alchemy-refresh-lock-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const options = { stage: "dev", rootDir: root, quiet: true } as const;
    const first = await alchemy("shop", options);
    await site();
    await first.finalize();

    const holder = await alchemy("shop", options);
    await site();
    await writeFile(path.join(root, "site/index.html"), "<h1>edited by hand</h1>");
    await expect(alchemy("shop", { ...options, phase: "refresh" })).rejects.toThrow(/lock/i);
    await holder.finalize();
    const record = JSON.parse(await readFile(path.join(root, ".alchemy/shop/dev/index.json"), "utf8"));
    expect(record.props.content).toBe("<h1>Hi</h1>");
  });
});
