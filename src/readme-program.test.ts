/**
 * The README's programs ("Writing a program", the Cloudflare example), copied
 * out of the README and run as a user would run them: in a project of its
 * own, with `node alchemy.run.ts`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, removeProject, REPO, runProgram } from "./cli/cli.test-fixture.js";

const README = readFileSync(path.join(REPO, "README.md"), "utf8");

/** The first ```ts block after the heading `heading`. */
function tsBlockAfter(heading: string): string {
  const lines = README.split("\n");
  const at = lines.indexOf(heading);
  if (at < 0) throw new Error(`README has no heading ${JSON.stringify(heading)}.`);
  const open = lines.findIndex((line, i) => i > at && line.startsWith("```"));
  const close = lines.findIndex((line, i) => i > open && line === "```");
  if (lines[open] !== "```ts" || close < 0) throw new Error(`No \`\`\`ts block follows ${JSON.stringify(heading)} in the README.`);
  return lines.slice(open + 1, close).join("\n");
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeProject));

describe("the README's Writing a program example", () => {
  it("fails without a password at the secret, naming it and ALCHEMY_PASSWORD", async () => {
    const dir = makeProject({ "alchemy.run.ts": tsBlockAfter("## Writing a program") });
    dirs.push(dir);
    const run = await runProgram(dir, {});
    expect(run.code).not.toBe(0);
    expect(run.output).toContain("my-app/prod/backend/secret");
    expect(run.output).toContain("ALCHEMY_PASSWORD");
  });

  it("deploys with ALCHEMY_PASSWORD set: out/.env holds the 32-character secret; a second run changes nothing", async () => {
    const dir = makeProject({ "alchemy.run.ts": tsBlockAfter("## Writing a program") });
    dirs.push(dir);
    const env = { ALCHEMY_PASSWORD: "correct horse battery staple" };
    const first = await runProgram(dir, env);
    expect(first.code, first.output).toBe(0);
    const envFile = readFileSync(path.join(dir, "out", ".env"), "utf8");
    const written = JSON.parse(envFile) as { secret: string };
    expect(written.secret).toMatch(/^\S{32}$/);
    const state = readFileSync(path.join(dir, ".alchemy", "my-app", "prod", "backend", "secret.json"), "utf8");
    expect(state).not.toContain(written.secret);
    const second = await runProgram(dir, env);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain("No changes");
    expect(readFileSync(path.join(dir, "out", ".env"), "utf8")).toBe(envFile);
  });
});

describe("the README's Cloudflare example", () => {
  it("deploys locally as written (ALCHEMY_LOCAL=1, with its API_TOKEN and a password), printing the Worker's loopback URL; a second run changes nothing", async () => {
    const dir = makeProject({
      "alchemy.run.ts": tsBlockAfter("## Cloudflare, locally: `alchemy/cloudflare` and `alchemy dev`"),
      "src/api/index.ts": `export default {
  async fetch(request: Request, env: { GREETING: string }) { return new Response(env.GREETING); },
  async queue() {},
};
`,
      "migrations/0001_init.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    });
    dirs.push(dir);
    const env = { ALCHEMY_LOCAL: "1", API_TOKEN: "readme-token", ALCHEMY_PASSWORD: "correct horse battery staple" };
    const first = await runProgram(dir, env);
    expect(first.code, first.output).toBe(0);
    const url = /^http:\/\/127\.0\.0\.1:\d+\/$/m.exec(first.output)?.[0];
    expect(url, first.output).toBeDefined();
    expect(first.output).not.toContain("readme-token");
    const second = await runProgram(dir, env);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain("No changes");
    expect(second.output).toContain(url);
  });
});

