import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { startAlchemy } from "../cli/cli.test-fixture.js";
import { ARTIFACTS, launchChromium } from "./browser.test-fixture.js";
import { cleanUpAfterEach, deployedShop, SECRET_VALUE, SHOP_DEPENDENCIES, SHOP_FQNS, shopEnv, shopProgram } from "./ui.test-fixture.js";

cleanUpAfterEach();
let browser: Browser;
beforeAll(async () => void (browser = await launchChromium()), 60_000);
afterAll(async () => void (await browser?.close()));

const STATE = "file:.alchemy";

/** `alchemy ui` started from the command line in `dir`; its URL. */
async function serveUi(dir: string): Promise<string> {
  let printed = "";
  const run = startAlchemy(["ui"], dir, shopEnv(STATE), (text) => (printed += text));
  onTestFinished(async () => {
    run.child.kill("SIGINT");
    await run.done;
  });
  const end = Date.now() + 30_000;
  for (;;) {
    const url = /alchemy ui: (\S+)\n/.exec(printed)?.[1];
    if (url) return url;
    if (Date.now() > end || run.child.exitCode !== null) throw new Error(`alchemy ui did not print its URL:\n${printed}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A page that keeps the text of every response it receives (the event stream aside, which never ends). */
async function openPage(): Promise<{ page: Page; bodies: string[]; refused: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  onTestFinished(() => page.close());
  const bodies: string[] = [];
  const refused: string[] = [];
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("response", (res) => {
    if (res.status() !== 200) refused.push(`${res.status()} ${res.url()}`);
    if (!res.url().includes("/api/events")) void res.text().then((t) => bodies.push(t), () => undefined);
  });
  onTestFinished(() => expect(errors, "errors thrown in the page").toEqual([]));
  return { page, bodies, refused };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

describe("alchemy ui in Chromium", () => {
  it("shows the stages, every resource in the scope tree, a resource and back, the graph and the history, and no secret", async () => {
    const { dir } = await deployedShop(STATE);
    const url = await serveUi(dir);
    const { page, bodies, refused } = await openPage();

    await page.goto(url);
    const row = page.locator('[data-testid="stage-row"][data-stage="dev"]');
    await expect.poll(() => row.textContent()).toContain(`${SHOP_FQNS.length}`);
    await shot(page, "overview");

    await row.getByRole("link", { name: "dev" }).click();
    const rows = page.locator('[data-testid="resource-row"]');
    await expect.poll(() => rows.count()).toBe(SHOP_FQNS.length);
    expect((await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-fqn")))).sort()).toEqual(SHOP_FQNS);
    // The resource scope's records sit under their resource, the nested scope's under it.
    expect(await page.locator('[data-testid="scope"][data-scope="shop/dev/backend"] [data-testid="resource-row"]').count()).toBe(2);
    expect(await page.locator('li:has(> [data-fqn="shop/dev/cluster"]) > ul [data-testid="resource-row"]').count()).toBe(2);
    await shot(page, "stage");

    // The filter keeps the rows whose fqn, kind or status has every word typed, and the scopes around them.
    await page.locator('[data-testid="filter"]').fill("cluster node");
    await expect.poll(() => rows.locator("visible=true").count()).toBe(2);
    expect(await rows.locator("visible=true").evaluateAll((els) => els.map((e) => e.getAttribute("data-fqn")))).toEqual(["shop/dev/cluster/node-a", "shop/dev/cluster/node-b"]);
    expect(await page.locator('[data-testid="scope"][data-scope="shop/dev/backend"]').isVisible()).toBe(false);
    await page.locator('[data-testid="filter"]').fill("");
    await expect.poll(() => rows.locator("visible=true").count()).toBe(SHOP_FQNS.length);

    await page.locator('[data-fqn="shop/dev/backend/api"] a').click();
    await expect.poll(() => page.locator('[data-testid="resource"]').getAttribute("data-fqn")).toBe("shop/dev/backend/api");
    expect(await page.locator('[data-testid="dependencies"] a').allTextContents()).toEqual(["shop/dev/db", "shop/dev/vault"]);
    expect(await page.locator('[data-testid="dependents"] a').allTextContents()).toEqual(["shop/dev/backend/worker"]);
    await shot(page, "resource");
    await page.locator('[data-testid="dependencies"] a', { hasText: "shop/dev/db" }).click();
    await expect.poll(() => page.locator('[data-testid="resource"]').getAttribute("data-fqn")).toBe("shop/dev/db");
    await page.goBack();
    await expect.poll(() => page.locator('[data-testid="resource"]').getAttribute("data-fqn")).toBe("shop/dev/backend/api");
    await page.goBack();
    await expect.poll(() => rows.count()).toBe(SHOP_FQNS.length);

    await page.locator('[data-testid="tab-graph"]').click();
    const graph = page.locator('[data-testid="graph"]');
    await expect.poll(() => graph.locator(".node").count()).toBe(SHOP_FQNS.length);
    expect(await graph.locator(".edge").count()).toBe(SHOP_DEPENDENCIES);
    expect((await graph.locator(".node").evaluateAll((els) => els.map((e) => e.getAttribute("data-fqn")))).sort()).toEqual(SHOP_FQNS);
    await shot(page, "graph");
    await graph.locator('.node[data-fqn="shop/dev/vault"]').click();
    await expect.poll(() => page.locator('[data-testid="resource"]').getAttribute("data-fqn")).toBe("shop/dev/vault");
    expect(await page.locator('[data-testid="props"]').textContent()).toContain('"key": "[secret]"');
    await page.goBack();

    await page.locator('[data-testid="tab-history"]').click();
    await expect.poll(() => page.locator('[data-testid="history-entry"]').count()).toBe(1);
    expect(await page.locator('[data-testid="history-entry"]').textContent()).toContain("deploy");
    await shot(page, "history");

    expect(refused, "every request the page made was answered").toEqual([]);
    expect(bodies.length).toBeGreaterThan(8);
    expect([await page.content(), ...bodies].filter((text) => text.includes(SECRET_VALUE))).toEqual([]);
  });

  it("shows a deploy running in another process as it goes, without a reload", async () => {
    const { dir } = await deployedShop(STATE);
    const url = await serveUi(dir);
    const { page } = await openPage();
    await page.goto(`${url}#/stage/shop/dev`);
    await expect.poll(() => page.locator('[data-testid="resource-row"]').count()).toBe(SHOP_FQNS.length);
    await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));

    // The deploy holds "cache" part-way (status creating, lock held) until the file "go" exists.
    writeFileSync(path.join(dir, "alchemy.run.ts"), shopProgram(`await Part("cache", { uses: [db], until: "go" });`));
    const deploy = startAlchemy(["deploy"], dir, shopEnv(STATE));
    onTestFinished(() => void deploy.child.kill("SIGKILL"));
    const cache = page.locator('[data-testid="resource-row"][data-fqn="shop/dev/cache"]');
    await expect.poll(() => cache.getAttribute("data-status"), { timeout: 30_000 }).toBe("creating");
    await expect.poll(() => page.locator('[data-testid="lock-banner"]').textContent()).toMatch(/deploy running: .*pid \d+/);
    await shot(page, "live-deploy");

    writeFileSync(path.join(dir, "go"), "");
    const result = await deploy.done;
    expect(result.code, result.stderr).toBe(0);
    await expect.poll(() => cache.getAttribute("data-status"), { timeout: 30_000 }).toBe("created");
    await expect.poll(() => page.locator('[data-testid="lock-banner"]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  });

  it("shows hand-edited records' markup as text, runs none of it, and shows a record it cannot read as an error naming the file", async () => {
    const { dir } = await deployedShop(STATE);
    const file = path.join(dir, ".alchemy/shop/dev/db.json");
    const db = JSON.parse(readFileSync(file, "utf8"));
    db.kind = `shop::<img src=x onerror="globalThis.pwned=1">`;
    db.props = { note: "</pre><script>globalThis.pwned=2</script>" };
    writeFileSync(file, JSON.stringify(db));
    const url = await serveUi(dir);
    const { page } = await openPage();
    for (const view of ["#/stage/shop/dev", "#/stage/shop/dev/graph", "#/resource/shop/dev/db", "#/stage/shop/dev/history"]) {
      await page.goto(`${url}${view}`);
      await expect.poll(() => page.locator("#view").getAttribute("data-rendered")).toBeTruthy();
    }
    await page.goto(`${url}#/resource/shop/dev/db`);
    await expect.poll(() => page.locator('[data-testid="props"]').textContent()).toContain("<script>globalThis.pwned=2</script>");
    expect(await page.locator("h1 + dl code").first().textContent()).toBe(db.kind);
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator("img").count()).toBe(0);

    writeFileSync(path.join(dir, ".alchemy/shop/dev/vault.json"), "{ not json");
    await page.goto(`${url}#/stage/shop/dev`);
    await expect.poll(() => page.locator('[data-testid="error"]').textContent()).toContain(path.join(".alchemy", "shop", "dev", "vault.json"));
  });

  it("refuses the page without the token", async () => {
    const { dir } = await deployedShop(STATE);
    const url = await serveUi(dir);
    const { page } = await openPage();
    const response = await page.goto(url.replace(/\?token=.*/, ""));
    expect(response?.status()).toBe(403);
    expect(await page.content()).toContain("needs the token of the URL it printed");
    expect(await page.content()).not.toContain("shop");
  });
});
