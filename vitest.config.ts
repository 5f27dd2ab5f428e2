import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests import the package by name ("alchemy", "alchemy/fs", ...) and run the
// TypeScript sources: each export's "source" condition becomes an alias.
const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));
const alias = Object.entries(pkg.exports as Record<string, { source?: string } | string>)
  .filter(([, target]) => typeof target === "object" && target.source)
  .map(([subpath, target]) => ({
    find: new RegExp(`^${subpath.replace(/^\./, "alchemy").replace(/[/.]/g, "\\$&")}$`),
    replacement: fileURLToPath(new URL((target as { source: string }).source, import.meta.url)),
  }));

export default defineConfig({
  resolve: { alias },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts", "bench/**/*.test.ts"],
    globalSetup: ["./test/cache-dir.global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // What a test prints (the engine's progress lines, a CLI's output) is kept with the test and shown
    // only if it fails: a passing suite's log is the list of tests and nothing else.
    silent: "passed-only",
    // Most test files wait on child processes, a database or a lease more than they compute: three run at
    // once even on a two-core machine (the default would be one). On 2 vCPUs the Node 20 run took 277 s
    // with three, 301 s with two.
    maxWorkers: Math.max(3, availableParallelism() - 1),
  },
});
