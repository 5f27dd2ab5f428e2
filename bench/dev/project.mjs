// The generated projects of `npm run bench:dev` (bench/dev.mjs): N Workers, each with
// a tiny TypeScript script answering one line of text and a KV binding of its own,
// as an Alchemy program (alchemy.run.ts, run by `alchemy dev`) and, for N = 1, as a
// wrangler project (wrangler.toml, run by `wrangler dev`) with the same script.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The application name, and the stage `alchemy dev` runs on (its default stage). */
export const APP = "devbench";

/** The text Worker `i` answers at first. */
export const initialText = (i) => `w${i} v0`;

/** The script of a Worker answering `text` (a TypeScript file: esbuild strips the types, nothing type-checks it). */
export function workerSource(text) {
  return [
    "interface Env {",
    "  KV: unknown;",
    "}",
    "",
    "export default {",
    "  async fetch(_request: Request, _env: Env): Promise<Response> {",
    `    return new Response(${JSON.stringify(text)});`,
    "  },",
    "};",
    "",
  ].join("\n");
}

/** Where Worker `i`'s script lives, relative to the project. */
export const scriptPath = (i) => `src/w${i}.ts`;

/**
 * An Alchemy project in `dir` (which exists, empty): node_modules/alchemy is a link to
 * this repository (as src/cli/cli.test-fixture.ts makeProject does), alchemy.run.ts
 * declares N KV namespaces and N Workers, Worker i binding KV namespace i as `KV`.
 * `declare`: "sequential" (a for loop awaiting each Worker, the way programs are
 * usually written) or "concurrent" (every pair declared at once, Promise.all).
 */
export function writeAlchemyProject(dir, repo, n, declare = "sequential") {
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(repo, path.join(dir, "node_modules", "alchemy"), "dir");
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-dev-project", private: true, type: "module" }, null, 2) + "\n");
  mkdirSync(path.join(dir, "src"));
  for (let i = 0; i < n; i++) writeFileSync(path.join(dir, scriptPath(i)), workerSource(initialText(i)));
  const program = [
    'import alchemy from "alchemy";',
    'import { KVNamespace, Worker } from "alchemy/cloudflare";',
    "",
    `const app = await alchemy(${JSON.stringify(APP)});`,
    "",
    ...(declare === "concurrent"
      ? [
          `await Promise.all(Array.from({ length: ${n} }, async (_, i) => {`,
          "  const kv = await KVNamespace(`kv-${i}`);",
          "  await Worker(`w-${i}`, { script: `./src/w${i}.ts`, bindings: { KV: kv } });",
          "}));",
        ]
      : [
          `for (let i = 0; i < ${n}; i++) {`,
          "  const kv = await KVNamespace(`kv-${i}`);",
          "  await Worker(`w-${i}`, { script: `./src/w${i}.ts`, bindings: { KV: kv } });",
          "}",
        ]),
    "",
    "await app.finalize();",
    "",
  ].join("\n");
  writeFileSync(path.join(dir, "alchemy.run.ts"), program);
}

/** Worker i's index from the fqn `alchemy dev` prints (`devbench/<stage>/w-<i>`), or undefined. */
export function workerIndex(fqn) {
  const m = /\/w-(\d+)$/.exec(fqn);
  return m ? Number(m[1]) : undefined;
}

/** A wrangler project in `dir` (which exists, empty) serving Worker 0's script with a local KV namespace bound as `KV`. */
export function writeWranglerProject(dir, compatibilityDate) {
  mkdirSync(path.join(dir, "src"));
  writeFileSync(path.join(dir, scriptPath(0)), workerSource(initialText(0)));
  writeFileSync(
    path.join(dir, "wrangler.toml"),
    [
      'name = "w0"',
      `main = "${scriptPath(0)}"`,
      `compatibility_date = "${compatibilityDate}"`,
      "",
      "[[kv_namespaces]]",
      'binding = "KV"',
      'id = "bench-dev-local-kv"',
      "",
    ].join("\n"),
  );
}
