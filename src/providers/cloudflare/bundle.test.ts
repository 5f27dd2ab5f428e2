import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BundleError, bundleWorker, watchWorker, type WatchReport, type WorkerBundle } from "./bundle.js";

const temps: string[] = [];

/** A fresh project directory holding `files` (path relative to it -> contents). */
async function project(files: Record<string, string>): Promise<string> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "alchemy-bundle-")));
  temps.push(dir);
  await write(dir, files);
  return dir;
}

async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, contents] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), contents);
  }
}

afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

const code = (bundle: WorkerBundle) => bundle.modules[0].contents as string;

const GREETING_WORKER = {
  "src/index.ts": `import { greet } from "./greet";\nexport default { fetch(): Response { return new Response(greet("worker")); } };\n`,
  "src/greet.ts": `export const greet = (name: string): string => \`hello \${name}\`;\n`,
};

describe("bundleWorker", () => {
  it("bundles a TypeScript entry with a local module and a package, choosing the package's workerd export over default and node", async () => {
    const rootDir = await project({
      "src/index.ts":
        `import { greet } from "./greet";\nimport { runtime } from "conditional";\nimport { field } from "fields";\n` +
        `export default { fetch(): Response { return new Response(greet(runtime + field)); } };\n`,
      "src/greet.ts": GREETING_WORKER["src/greet.ts"],
      "node_modules/conditional/package.json": JSON.stringify({
        name: "conditional",
        exports: { node: "./node.js", workerd: "./workerd.js", default: "./default.js" },
      }),
      "node_modules/conditional/node.js": `export const runtime = "runtime-node";\n`,
      "node_modules/conditional/workerd.js": `export const runtime = "runtime-workerd";\n`,
      "node_modules/conditional/default.js": `export const runtime = "runtime-default";\n`,
      "node_modules/fields/package.json": JSON.stringify({ name: "fields", main: "./main.js", module: "./module.js" }),
      "node_modules/fields/main.js": `exports.field = "field-main";\n`,
      "node_modules/fields/module.js": `export const field = "field-module";\n`,
    });

    const bundle = await bundleWorker("./src/index.ts", { rootDir, workerName: "api-worker" });

    expect(bundle.modules.map(({ name, type }) => ({ name, type }))).toEqual([
      { name: "index.js", type: "esm" },
      { name: "index.js.map", type: "sourcemap" },
    ]);
    expect(code(bundle)).toContain("hello ${name}");
    expect(code(bundle)).toContain("runtime-workerd");
    expect(code(bundle)).not.toMatch(/runtime-default|runtime-node/);
    expect(code(bundle)).toContain("field-module");
    expect(code(bundle)).not.toContain("sourceMappingURL");
    const map = JSON.parse(bundle.modules[1].contents as string) as { sources: string[] };
    expect(map.sources).toEqual(expect.arrayContaining(["src/index.ts", "src/greet.ts"]));
    expect(bundle.inputs).toEqual(
      [
        "src/index.ts",
        "src/greet.ts",
        "node_modules/conditional/workerd.js",
        "node_modules/fields/module.js",
      ]
        .map((file) => path.join(rootDir, file))
        .sort(),
    );
    expect(bundle.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("leaves cloudflare:* and node:* imports to the runtime", async () => {
    const rootDir = await project({
      "index.js":
        `import { DurableObject } from "cloudflare:workers";\nimport { Buffer } from "node:buffer";\n` +
        `export class Counter extends DurableObject {}\nexport default { fetch() { return new Response(Buffer.from("hi").toString("base64")); } };\n`,
    });

    const bundle = await bundleWorker("index.js", { rootDir, workerName: "edge" });

    expect(code(bundle)).toMatch(/from "cloudflare:workers"/);
    expect(code(bundle)).toMatch(/from "node:buffer"/);
    // An entry named like the output (index.js at the root) is read, not refused as overwritten.
    expect(bundle.inputs).toEqual([path.join(rootDir, "index.js")]);
  });

  it("changes the hash when an imported file changes, and keeps it when nothing changed", async () => {
    const rootDir = await project(GREETING_WORKER);
    const options = { rootDir, workerName: "api-worker" };

    const first = await bundleWorker("src/index.ts", options);
    const again = await bundleWorker("src/index.ts", options);
    await write(rootDir, { "src/greet.ts": `export const greet = (name: string): string => \`goodbye \${name}\`;\n` });
    const edited = await bundleWorker("src/index.ts", options);

    expect(again.hash).toBe(first.hash);
    expect(edited.hash).not.toBe(first.hash);
    expect(code(edited)).toContain("goodbye");
  });

  it("accepts an absolute entry path", async () => {
    const rootDir = await project(GREETING_WORKER);

    const bundle = await bundleWorker(path.join(rootDir, "src/index.ts"), { rootDir, workerName: "api-worker" });

    expect(code(bundle)).toContain("hello ${name}");
  });

  it("takes a relative rootDir from the current directory", async () => {
    const rootDir = await project(GREETING_WORKER);

    const bundle = await bundleWorker("src/index.ts", { rootDir: path.relative(process.cwd(), rootDir), workerName: "api-worker" });

    expect(bundle.inputs).toContain(path.join(rootDir, "src/index.ts"));
  });

  it("refuses an import whose output a Worker cannot load, naming it", async () => {
    const rootDir = await project({ "index.js": `import "./style.css";\nexport default { fetch() { return new Response("ok"); } };\n`, "style.css": "body { color: red }\n" });

    await expect(bundleWorker("index.js", { rootDir, workerName: "edge" })).rejects.toThrow(
      `Worker "edge": the bundle has outputs a Worker cannot load: index.css. Remove the imports that produce them (a stylesheet, an asset) from the Worker's script.`,
    );
  });

  it("names the Worker, the script as given and as resolved when the entry does not exist", async () => {
    const rootDir = await project({});

    const failure = bundleWorker("./src/api/index.ts", { rootDir, workerName: "api-worker" });

    await expect(failure).rejects.toThrow(BundleError);
    await expect(failure).rejects.toThrow(
      `Worker "api-worker": script ./src/api/index.ts does not exist (resolved to ${path.join(rootDir, "src/api/index.ts")}). Fix the script (or entrypoint) prop.`,
    );
  });

  it("lists each syntax error as file:line:column relative to the root", async () => {
    const rootDir = await project({
      "src/api/index.ts": `import { x } from "./broken";\nexport default { fetch() { return new Response(x); } };\n`,
      "src/api/broken.ts": `export const x = "a";\n\nconst a x = 1;\n`,
    });

    const error = await bundleWorker("src/api/index.ts", { rootDir, workerName: "api-worker" }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BundleError);
    expect((error as BundleError).message).toBe(`Worker "api-worker" does not build:\n  src/api/broken.ts:3:9: Expected ";" but found "x"`);
    expect((error as BundleError).workerName).toBe("api-worker");
    expect((error as BundleError).problems).toEqual([{ file: "src/api/broken.ts", line: 3, column: 9, text: `Expected ";" but found "x"` }]);
  });

  it("reports every import that cannot be resolved, with esbuild's hint", async () => {
    const rootDir = await project({
      "src/index.ts": `import a from "not-installed";\nimport b from "./missing";\nexport default { fetch() { return new Response(a + b); } };\n`,
    });

    const error = (await bundleWorker("src/index.ts", { rootDir, workerName: "api-worker" }).catch((e: unknown) => e)) as BundleError;

    expect(error.message).toMatch(/^Worker "api-worker" does not build:\n/);
    expect(error.message).toContain(`  src/index.ts:1:15: Could not resolve "not-installed"`);
    expect(error.message).toContain(`  src/index.ts:2:15: Could not resolve "./missing"`);
    expect(error.message).toMatch(/\n {4}You can mark the path "not-installed" as external/);
  });
});

describe("watchWorker", () => {
  /** Collects reports; `next()` waits for the one after those already taken. */
  function reports() {
    const queue: WatchReport[] = [];
    const waiters: Array<(report: WatchReport) => void> = [];
    return {
      onChange(report: WatchReport) {
        const waiter = waiters.shift();
        if (waiter) waiter(report);
        else queue.push(report);
      },
      next(): Promise<WatchReport> {
        const queued = queue.shift();
        return queued ? Promise.resolve(queued) : new Promise((resolve) => waiters.push(resolve));
      },
      /**
       * The first report that `matches`, skipping others: a poll can catch a file
       * half-written (truncated, not yet written), and its build is reported too.
       */
      async until(matches: (report: WatchReport) => boolean): Promise<WatchReport> {
        for (;;) {
          const report = await this.next();
          if (matches(report)) return report;
        }
      },
      pending: () => queue.length,
    };
  }

  it("reports the first build, a rebuild after an imported file is edited, an error for a syntax error and the recovery", async () => {
    const rootDir = await project(GREETING_WORKER);
    const seen = reports();
    const watch = await watchWorker("src/index.ts", { rootDir, workerName: "api-worker" }, seen.onChange);
    try {
      // GIVEN the first build, reported before watchWorker resolved
      expect(seen.pending()).toBe(1);
      const first = await seen.next();
      expect(first.error).toBeUndefined();
      expect(first.bundle?.inputs).toEqual([path.join(rootDir, "src/greet.ts"), path.join(rootDir, "src/index.ts")]);
      // the same sources give the same hash as a deploy's bundle, so dev can compare with what is deployed
      expect(first.bundle?.hash).toBe((await bundleWorker("src/index.ts", { rootDir, workerName: "api-worker" })).hash);

      // WHEN an imported file is edited (several times, to measure edit-to-report latency)
      const latencies: number[] = [];
      let previous = first.bundle!.hash;
      for (const word of ["goodbye", "bonjour", "hallo", "ciao", "hej"]) {
        const started = performance.now();
        await write(rootDir, { "src/greet.ts": `export const greet = (name: string): string => \`${word} \${name}\`;\n` });
        const report = await seen.until((r) => r.bundle !== undefined && code(r.bundle).includes(word));
        latencies.push(performance.now() - started);
        // THEN each edit is reported as a new bundle
        expect(report.error).toBeUndefined();
        expect(code(report.bundle!)).toContain(word);
        expect(report.bundle!.hash).not.toBe(previous);
        previous = report.bundle!.hash;
      }
      console.log(`watchWorker edit-to-onChange latency (ms): ${latencies.map((ms) => ms.toFixed(0)).join(", ")}`);

      // WHEN a syntax error is saved THEN it is reported as an error with its place
      await write(rootDir, { "src/greet.ts": `export const greet = (name: string): string => name\nconst a x = 1;\n` });
      const broken = await seen.until((r) => r.error?.message.includes("Expected") === true);
      expect(broken.bundle).toBeUndefined();
      expect(broken.error).toBeInstanceOf(BundleError);
      expect(broken.error!.message).toBe(`Worker "api-worker" does not build:\n  src/greet.ts:2:9: Expected ";" but found "x"`);

      // WHEN it is fixed THEN the next report is a bundle again
      await write(rootDir, GREETING_WORKER);
      const recovered = await seen.until((r) => r.bundle !== undefined);
      expect(recovered.error).toBeUndefined();
      expect(code(recovered.bundle!)).toContain("hello ${name}");
    } finally {
      await watch.dispose();
    }
  });

  it("reports a first build that fails as an error, and the build once it is fixed", async () => {
    const rootDir = await project({ ...GREETING_WORKER, "src/greet.ts": `export const greet = (name: string) => name +;\n` });
    const seen = reports();
    const watch = await watchWorker("src/index.ts", { rootDir, workerName: "api-worker" }, seen.onChange);
    try {
      expect((await seen.next()).error?.message).toMatch(/^Worker "api-worker" does not build:\n {2}src\/greet\.ts:1:\d+: /);

      await write(rootDir, GREETING_WORKER);

      expect(code((await seen.until((r) => r.bundle !== undefined)).bundle!)).toContain("hello ${name}");
    } finally {
      await watch.dispose();
    }
  });

  it("refuses to watch a script that does not exist", async () => {
    const rootDir = await project({});

    await expect(watchWorker("src/index.ts", { rootDir, workerName: "api-worker" }, () => {})).rejects.toThrow(
      /^Worker "api-worker": script src\/index\.ts does not exist \(resolved to .*\)\. Fix the script \(or entrypoint\) prop\.$/,
    );
  });

  it("makes no report after dispose", async () => {
    const rootDir = await project(GREETING_WORKER);
    const seen = reports();
    const watch = await watchWorker("src/index.ts", { rootDir, workerName: "api-worker" }, seen.onChange);
    await seen.next();

    await watch.dispose();
    await write(rootDir, { "src/greet.ts": `export const greet = (name: string): string => name;\n` });
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    expect(seen.pending()).toBe(0);
  });
});
