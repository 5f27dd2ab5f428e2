/**
 * Temp projects for command-line tests, declaring `Note` resources: a
 * resource kind whose real effect is a file under world/, whose handler
 * says on stderr when it starts, and can be slowed, held until a file
 * exists (`until`), or made to fail.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach } from "vitest";
import { makeProject, removeProject } from "./cli.test-fixture.js";

/** A resource kind whose real effect is a file under world/, and whose handler can be slowed or made to fail. */
export const NOTE = `
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import alchemy, { Resource } from "alchemy";
export const Note = Resource("test::Note", async function (id: string, props: { text: string; slowMs?: number; fail?: boolean; until?: string }) {
  if (this.phase === "delete") {
    process.stderr.write("deleting " + id + "\\n");
    if (props.slowMs) await new Promise((r) => setTimeout(r, props.slowMs));
    rmSync("world/" + id, { force: true });
    return this.destroy();
  }
  process.stderr.write("started " + id + "\\n");
  appendFileSync("calls.log", process.pid + " " + this.phase + " " + id + "\\n");
  if (props.slowMs) await new Promise((r) => setTimeout(r, props.slowMs));
  while (props.until && !existsSync(props.until)) await new Promise((r) => setTimeout(r, 20));
  if (props.fail) throw new Error("the provider refused " + id);
  mkdirSync("world", { recursive: true });
  writeFileSync("world/" + id, props.text);
  return { text: props.text };
});
export { alchemy };
`;

export const program = (body: string, options = "") => `
import { alchemy, Note } from "./note.ts";
const app = await alchemy("shop"${options ? `, ${options}` : ""});
${body}
await app.finalize();
`;

const projects: string[] = [];
/** A project whose alchemy.run.ts runs `body` in application "shop"; removed after the test. */
export function project(body: string, options?: string): string {
  const dir = makeProject({ "note.ts": NOTE, "alchemy.run.ts": program(body, options) });
  projects.push(dir);
  return dir;
}
/** Registers the clean-up of every project a test file makes. */
export function removeProjectsAfterEach(): void {
  afterEach(() => projects.splice(0).forEach(removeProject));
}

/** Tracks a project made another way, for clean-up. */
export function track(dir: string): string {
  projects.push(dir);
  return dir;
}

export const world = (dir: string) => (existsSync(path.join(dir, "world")) ? readdirSync(path.join(dir, "world")).sort() : []);
/** A record of app "shop" as the filesystem store wrote it. */
export const record = (dir: string, ...names: string[]) => JSON.parse(readFileSync(path.join(dir, ".alchemy/shop", ...names) + ".json", "utf8"));
export const rewrite = (dir: string, body: string, options?: string) => writeFileSync(path.join(dir, "alchemy.run.ts"), program(body, options));

