/**
 * Harness of the `alchemy.test` tests: temp projects holding test files that
 * use `alchemy.test`, run by real vitest processes (the repository's vitest,
 * with "alchemy" resolved to the TypeScript sources).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { makeProject, REPO } from "../cli/cli.test-fixture.js";
import { childEnv } from "../child-env.test-fixture.js";

const FIXTURES = path.join(REPO, "src/testing/test-scope-fixtures");
const VITEST = path.join(REPO, "node_modules/vitest/vitest.mjs");

/**
 * A vitest reporter writing every test's full name, state and errors (with
 * their messages: vitest's JSON reporter keeps only stacks) to $REPORT_FILE.
 */
const REPORTER = `import { writeFileSync } from "node:fs";
export default class FileReporter {
  onTestRunEnd(modules, unhandledErrors, reason) {
    const error = (e) => ({ name: e.name, message: e.message, stack: e.stack });
    const tests = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        tests.push({ fullName: test.fullName, state: result.state, errors: (result.errors ?? []).map(error) });
      }
    }
    writeFileSync(process.env.REPORT_FILE, JSON.stringify({ tests, unhandledErrors: unhandledErrors.map(error), reason }));
  }
}
`;

/** vitest's config for the project: every export of the package aliased to its source, as in the repository's own config. */
function vitestConfig(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { exports: Record<string, { source?: string } | string> };
  const alias = Object.entries(pkg.exports)
    .filter((entry): entry is [string, { source: string }] => typeof entry[1] === "object" && entry[1].source !== undefined)
    .map(([subpath, target]) => ({
      find: `^${subpath.replace(/^\./, "alchemy").replace(/[/.]/g, "\\$&")}$`,
      replacement: path.join(REPO, target.source),
    }));
  return `export default {
  resolve: { alias: ${JSON.stringify(alias)}.map(({ find, replacement }) => ({ find: new RegExp(find), replacement })) },
  test: { include: ["*.test.ts"], testTimeout: 20_000, hookTimeout: 20_000, maxConcurrency: 16, disableConsoleIntercept: true },
};
`;
}

/**
 * A temp project with a `world/` directory and the fixtures `names` (from
 * test-scope-fixtures/, `<name>.test-fixture.ts`) as `<name>.test.ts`.
 */
export function makeTestProject(names: string[]): string {
  const dir = makeProject({ "vitest.config.mjs": vitestConfig(), "file-reporter.mjs": REPORTER });
  symlinkSync(path.join(REPO, "node_modules/vitest"), path.join(dir, "node_modules/vitest"), "dir");
  mkdirSync(path.join(dir, "world"));
  for (const name of names) copyFileSync(path.join(FIXTURES, `${name}.test-fixture.ts`), path.join(dir, `${name}.test.ts`));
  return dir;
}

/** An error as the reporter wrote it. */
export interface ReportedError {
  name: string;
  message: string;
  stack?: string;
}

/** One test as the reporter wrote it. */
export interface TestResult {
  /** "suite > test" */
  fullName: string;
  state: "passed" | "failed" | "skipped" | "pending";
  errors: ReportedError[];
}

/** What a vitest process did. */
export interface VitestRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every test, by full name; empty when vitest wrote no report. */
  tests: Map<string, TestResult>;
  /** Errors outside any test (e.g. a worker that died). */
  unhandledErrors: ReportedError[];
}

/** Runs `vitest run <files>` in `project`; `env` is added to a minimal environment. */
export function runVitest(project: string, files: string[], env: NodeJS.ProcessEnv = {}, reportName = "report"): Promise<VitestRun> {
  const output = path.join(project, `${reportName}.json`);
  const child = spawn(process.execPath, [VITEST, "run", "--root", project, "--reporter=./file-reporter.mjs", ...files], {
    cwd: project,
    env: childEnv({ REPORT_FILE: output, ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const report = existsSync(output)
        ? (JSON.parse(readFileSync(output, "utf8")) as { tests: TestResult[]; unhandledErrors: ReportedError[] })
        : { tests: [], unhandledErrors: [] };
      resolve({ code, stdout, stderr, tests: new Map(report.tests.map((t) => [t.fullName, t])), unhandledErrors: report.unhandledErrors });
    });
  });
}

/** The result of test `fullName`, failing with everything vitest said when it is missing. */
export function testResult(run: VitestRun, fullName: string): TestResult {
  const result = run.tests.get(fullName);
  if (!result) throw new Error(`no test "${fullName}" in the report (tests: ${[...run.tests.keys()].join(", ")})\n${run.stdout}\n${run.stderr}`);
  return result;
}

/** The messages of a test's errors, one per line. */
export function errorText(result: TestResult): string {
  return result.errors.map((e) => `${e.name}: ${e.message}`).join("\n");
}

/** Every file under `dir`, relative to it; `[]` when `dir` does not exist. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** The stage paths the fixtures logged in world/stages.log, in order. */
export function loggedStages(project: string): string[] {
  const log = path.join(project, "world/stages.log");
  return existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
}

/** Writes `text` to `file` under `project` (creating directories). */
export function writeProjectFile(project: string, file: string, text: string): void {
  mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
  writeFileSync(path.join(project, file), text);
}
