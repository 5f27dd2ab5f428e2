/**
 * `alchemy dev` on small programs written here, over real HTTP on Miniflare.
 * The Cloudflare example's whole session (edits, syntax errors, resources added
 * and removed, Ctrl-C, restart, destroy) is examples/cloudflare/example.test.ts.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, removeProject, startAlchemy, type CliResult } from "../cli.test-fixture.js";

const projects: string[] = [];
const running: { kill(signal: NodeJS.Signals): boolean; done: Promise<CliResult> }[] = [];
afterEach(async () => {
  for (const dev of running.splice(0)) {
    dev.kill("SIGINT");
    await dev.done;
  }
  for (const dir of projects.splice(0)) removeProject(dir);
});

/** Polls `probe` until it returns something other than undefined; fails naming `what` after `timeoutMs`. */
async function until<T>(what: () => string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function body(url: string): Promise<string | undefined> {
  try {
    return await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
  } catch {
    return undefined;
  }
}

const worker = (text: string) => `export default { fetch: () => new Response(${JSON.stringify(text)}) };\n`;

/** Starts `alchemy dev` in a project with one Worker answering `v0`; resolves once it serves and watches. */
async function devWithOneWorker() {
  const dir = makeProject({
    "alchemy.run.ts": `import alchemy from "alchemy";
import { Worker } from "alchemy/cloudflare";
const app = await alchemy("dev-app");
await Worker("echo", { script: "./src/echo.ts" });
await app.finalize();
`,
    "src/echo.ts": worker("v0"),
  });
  projects.push(dir);
  let output = "";
  const { child, done } = startAlchemy(["dev"], dir, {}, (text) => (output += text));
  running.push({ kill: (signal) => child.kill(signal), done });
  const log = () => `alchemy dev's output:\n${output}`;
  await until(() => `dev to serve and watch; ${log()}`, () => (/^Watching /m.test(output) ? true : undefined), 60_000);
  const url = /^Ready: dev-app\/\S+\/echo on (\S+)$/m.exec(output)![1];
  return { dir, url, log };
}

describe("alchemy dev", () => {
  it("never misses an edit saved the moment the previous one is served, while that run is still finishing", async () => {
    const { dir, url, log } = await devWithOneWorker();
    expect(await body(url)).toBe("v0");
    // Each save lands somewhere in the end of the run that served the one before:
    // a change seen then must run the program once more, not be dropped.
    for (let i = 1; i <= 12; i++) {
      writeFileSync(path.join(dir, "src/echo.ts"), worker(`v${i}`));
      await until(() => `edit ${i} to be served; ${log()}`, async () => ((await body(url)) === `v${i}` ? true : undefined), 20_000);
    }
  });
});
