/**
 * The example's GitHub Actions workflows: every alchemy command they run is one
 * the CLI accepts, each pull request keeps its own stage in a shared store, and
 * the files are exactly what `alchemy init` writes.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, symlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO, makeProject, removeProject, runAlchemy } from "../../src/cli/cli.test-fixture.js";
import { previewWorkflow, sweepWorkflow } from "../../src/cli/commands/init-templates.js";
import { checkCommandLine } from "../../src/cli/program.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const workflowText = (file: string) => readFileSync(path.join(here, ".github", "workflows", file), "utf8");
/** The application alchemy.run.ts names, which the sweep must name too. */
const APP = /await alchemy\("([^"]+)"\)/.exec(readFileSync(path.join(here, "alchemy.run.ts"), "utf8"))![1];

interface Step {
  name?: string;
  if?: string;
  uses?: string;
  with?: Record<string, unknown>;
  run?: string;
}
interface Job {
  if?: string;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, any>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

/**
 * Values for the `${{ ... }}` expressions that commands may hold, as GitHub
 * would substitute them before the shell runs. An expression not known here
 * fails the test, so that a new one is given a plausible value on purpose.
 */
function plausibleValue(expression: string): string {
  if (expression === "github.event.pull_request.number") return "123";
  if (/^inputs\.[\w-]+$/.test(expression)) return "true";
  throw new Error(`No plausible value for \${{ ${expression} }}: add one to plausibleValue().`);
}

/** Keeps `${{ ... }}` as written, to compare what two commands say before substitution. */
const asWritten = (expression: string) => `\${{ ${expression} }}`;

/**
 * Splits one shell command line into argv as bash would, `${{ ... }}` first
 * replaced by `expand` (GitHub substitutes expressions before the shell runs,
 * inside quotes too). Throws on what it does not model (variables, globs,
 * operators, unbalanced quotes) rather than guess.
 */
function shellWords(line: string, expand: (expression: string) => string): string[] {
  const expressions: string[] = [];
  const text = line.replace(/\$\{\{(.*?)\}\}/g, (_, expression: string) => `\uE000${expressions.push(expression.trim()) - 1}\uE001`);
  if (text.includes("${{")) throw new Error(`Unclosed \${{ in: ${line}`);
  const restore = (word: string) => word.replace(/\uE000(\d+)\uE001/g, (_, i: string) => expand(expressions[Number(i)]));

  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(restore(word));
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`Unbalanced ' in: ${line}`);
      word = (word ?? "") + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let quoted = "";
      for (i++; text[i] !== '"'; i++) {
        if (i >= text.length) throw new Error(`Unbalanced " in: ${line}`);
        if (text[i] === "$" || text[i] === "`") throw new Error(`Shell expansion inside "..." is not modelled: ${line}`);
        if (text[i] === "\\" && /["\\$`]/.test(text[i + 1] ?? "")) i++;
        quoted += text[i];
      }
      word = (word ?? "") + quoted;
    } else if (c === "\\") {
      word = (word ?? "") + (text[++i] ?? "");
    } else if (/[$`;&|<>(){}*?[\]#~!]/.test(c)) {
      throw new Error(`Unquoted ${c} is shell syntax this check does not model: ${line}`);
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(restore(word));
  return words;
}

/** One alchemy command a workflow runs. */
interface AlchemyCommand {
  job: string;
  step: Step;
  /** The arguments after `npx alchemy`, expressions given plausible values. */
  argv: string[];
  /** The same arguments with expressions as written. */
  written: string[];
}

/** Every command line of every `run:` that invokes alchemy; fails on any that invokes it other than as `npx alchemy`. */
function alchemyCommands(workflow: Workflow): AlchemyCommand[] {
  const commands: AlchemyCommand[] = [];
  for (const [job, { steps }] of Object.entries(workflow.jobs)) {
    for (const step of steps) {
      const lines = (step.run ?? "").replace(/\\\n/g, " ").split("\n");
      for (const line of lines.map((l) => l.trim()).filter((l) => /\balchemy\b/.test(l))) {
        expect(line, `job ${job} should run alchemy as "npx alchemy ..."`).toMatch(/^npx alchemy /);
        commands.push({ job, step, argv: shellWords(line, plausibleValue).slice(2), written: shellWords(line, asWritten).slice(2) });
      }
    }
  }
  return commands;
}

/** The value of `--flag value` or `--flag=value` in argv. */
function flagValue(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

const WORKFLOWS = [
  { file: "preview.yml", template: previewWorkflow, commands: ["deploy", "destroy"] },
  { file: "sweep-previews.yml", template: () => sweepWorkflow(APP), commands: ["stages prune", "stages prune"] },
];

describe.each(WORKFLOWS)("the example's $file", ({ file, template, commands }) => {
  const text = workflowText(file);
  const workflow = parse(text) as Workflow;

  it("is exactly what alchemy init writes, so the example and init never drift", () => {
    expect(text).toBe(template());
  });

  it("parses as YAML into jobs with steps", () => {
    expect(Object.keys(workflow.jobs).length).toBeGreaterThan(0);
    for (const job of Object.values(workflow.jobs)) expect(job.steps.length).toBeGreaterThan(0);
  });

  it(`runs only alchemy command lines the CLI accepts: ${commands.join(", ")}`, () => {
    const found = alchemyCommands(workflow);
    expect(found.map(({ argv }) => checkCommandLine(argv))).toEqual(commands.map((command) => ({ ok: true, command })));
  });

  it("takes the state store and the password from secrets in every job that runs alchemy, and stops without the store", () => {
    for (const { job, step } of alchemyCommands(workflow)) {
      const env = { ...workflow.env, ...workflow.jobs[job].env };
      expect(env.ALCHEMY_STATE_STORE, job).toMatch(/^\$\{\{ secrets\.ALCHEMY_STATE_STORE \}\}$/);
      expect(env.ALCHEMY_PASSWORD, job).toMatch(/^\$\{\{ secrets\.ALCHEMY_PASSWORD \}\}$/);
      const steps = workflow.jobs[job].steps;
      const guard = steps.findIndex((s) => s.if === "env.ALCHEMY_STATE_STORE == ''" && /^exit 1$/m.test(s.run ?? ""));
      expect(guard, `job ${job} should fail when the secret is empty, before running alchemy`).toBeGreaterThanOrEqual(0);
      expect(guard).toBeLessThan(steps.indexOf(step));
    }
    for (const { argv } of alchemyCommands(workflow)) expect(flagValue(argv, "--state")).toBeUndefined();
  });

  it("never caches, uploads or downloads .alchemy/ in place of the shared store", () => {
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps) {
        expect(step.uses ?? "").not.toMatch(/^actions\/(cache|upload-artifact|download-artifact)\b/);
        expect(JSON.stringify(step)).not.toContain(".alchemy");
      }
    }
  });

  it("runs one at a time and never cancels a run halfway", () => {
    expect(workflow.concurrency?.group).toBeTruthy();
    expect(workflow.concurrency?.["cancel-in-progress"]).toBe(false);
  });
});

describe("the preview workflow", () => {
  const workflow = parse(workflowText("preview.yml")) as Workflow;
  const [deploy, destroy] = alchemyCommands(workflow);

  it("deploys on every push to a pull request and destroys when it closes", () => {
    expect(workflow.on.pull_request.types).toEqual(["opened", "synchronize", "reopened", "closed"]);
    expect(workflow.jobs[deploy.job].if).toBe("github.event.action != 'closed'");
    expect(workflow.jobs[destroy.job].if).toBe("github.event.action == 'closed'");
  });

  it("deploys and destroys the same stage, named after the pull request", () => {
    expect(flagValue(deploy.written, "--stage")).toBe("pr-${{ github.event.pull_request.number }}");
    expect(flagValue(destroy.written, "--stage")).toBe(flagValue(deploy.written, "--stage"));
    expect(flagValue(deploy.argv, "--stage")).toBe("pr-123");
  });

  it("destroys with --force, as a run without a terminal must", () => {
    expect(destroy.argv).toContain("--force");
  });

  it("queues the runs of one pull request in a group of their own", () => {
    expect(workflow.concurrency).toEqual({ group: "preview-pr-${{ github.event.pull_request.number }}", "cancel-in-progress": false });
  });
});

describe("the sweep workflow", () => {
  const workflow = parse(workflowText("sweep-previews.yml")) as Workflow;
  const [sweep, dryRun] = alchemyCommands(workflow);

  it("runs every day, and by hand with a dry-run input", () => {
    expect(workflow.on.schedule).toEqual([{ cron: expect.stringMatching(/^\S+ \S+ \* \* \*$/) }]);
    expect(workflow.on.workflow_dispatch.inputs["dry-run"]).toMatchObject({ type: "boolean" });
  });

  it("prunes only this application's pr-* stages no deploy has touched for 7 days", () => {
    for (const { argv } of [sweep, dryRun]) {
      expect(flagValue(argv, "--app")).toBe(APP);
      expect(flagValue(argv, "--match")).toBe("pr-*");
      expect(flagValue(argv, "--older-than")).toBe("7d");
    }
  });

  it("destroys on schedule, and only lists what it would destroy when the dry-run input asks", () => {
    expect(sweep.step.if).toBe("${{ !inputs.dry-run }}");
    expect(sweep.argv).not.toContain("--dry-run");
    expect(dryRun.step.if).toBe("${{ inputs.dry-run }}");
    expect(dryRun.argv).toContain("--dry-run");
  });
});

describe("the command-line check these tests rely on", () => {
  const [deploy] = alchemyCommands(parse(workflowText("preview.yml")) as Workflow);

  it("rejects an unknown flag or command, so that the checks above cannot pass vacuously", () => {
    expect(checkCommandLine([...deploy.argv, "--stag", "pr-1"])).toMatchObject({ ok: false, error: expect.stringContaining("--stag") });
    expect(checkCommandLine(["deploi", "--stage", "pr-1"]).ok).toBe(false);
    expect(checkCommandLine(["stages", "prune", "--match", "pr-*", "--older-than", "7d", "--bogus"]).ok).toBe(false);
  });

  it("splits quoted words as the shell does and substitutes expressions first", () => {
    expect(shellWords(`npx alchemy stages prune --match 'pr-*' --older-than "7d" --keep pr-\${{ inputs.keep }}`, plausibleValue)).toEqual([
      "npx", "alchemy", "stages", "prune", "--match", "pr-*", "--older-than", "7d", "--keep", "pr-true",
    ]);
    expect(shellWords(`a 'it''s' "x \\"y\\"" b\\ c`, plausibleValue)).toEqual(["a", "its", 'x "y"', "b c"]);
  });

  it("refuses what it does not model rather than guess", () => {
    expect(() => shellWords("npx alchemy deploy --stage $STAGE", plausibleValue)).toThrow(/\$/);
    expect(() => shellWords("npx alchemy stages prune --match pr-*", plausibleValue)).toThrow(/\*/);
    expect(() => shellWords("npx alchemy deploy 'pr-1", plausibleValue)).toThrow(/Unbalanced/);
    expect(() => shellWords("npx alchemy deploy && rm -rf .alchemy", plausibleValue)).toThrow(/&/);
    expect(() => shellWords("npx alchemy deploy --stage ${{ github.head_ref }}", plausibleValue)).toThrow(/plausibleValue/);
  });
});

describe("the example program run as the workflows run it", () => {
  // A copy of the example whose node_modules/alchemy is this checkout, on a
  // SQLite store named by ALCHEMY_STATE_STORE as CI names its PostgreSQL one.
  // The tests run in order, as a pull request's life does.
  let dir = "";
  const env = { CI: "true", ALCHEMY_STATE_STORE: "sqlite:.alchemy/state.sqlite", ALCHEMY_PASSWORD: "correct horse battery staple" };
  const [deploy, destroy] = alchemyCommands(parse(workflowText("preview.yml")) as Workflow);
  const [, dryRun] = alchemyCommands(parse(workflowText("sweep-previews.yml")) as Workflow);
  beforeAll(() => {
    dir = makeProject({});
    for (const file of ["alchemy.run.ts", "package.json", "tsconfig.json"]) copyFileSync(path.join(here, file), path.join(dir, file));
  });
  afterAll(() => removeProject(dir));

  // The repository's own type-check skips alchemy.run.ts: its package.json
  // makes it a project of its own, where "alchemy" is a dependency.
  it("type-checks as a project of its own, against this checkout's sources", () => {
    symlinkSync(path.join(REPO, "node_modules", "@types"), path.join(dir, "node_modules", "@types"), "dir");
    const tsc = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
    const checked = spawnSync(process.execPath, [tsc, "-p", dir, "--customConditions", "source"], { encoding: "utf8" });
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
  });

  it("deploys the pull request's stage into the store from the environment, then changes nothing", async () => {
    const first = await runAlchemy(deploy.argv, dir, env);
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(path.join(dir, "out", "pr-123", "index.html"), "utf8")).toContain("Preview of pull request #123");
    expect(existsSync(path.join(dir, ".alchemy", "state.sqlite"))).toBe(true);
    expect(existsSync(path.join(dir, ".alchemy", "github-actions-example"))).toBe(false);
    expect(first.stderr).not.toMatch(/\blost\b/);

    const second = await runAlchemy(deploy.argv, dir, env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("No changes");
  });

  it("warns on CI that state is lost with the runner when ALCHEMY_STATE_STORE is not set", async () => {
    // The password stays: the program's preview key is a secret, as in the workflows.
    const unshared = await runAlchemy(["deploy", "--stage", "pr-124"], dir, { CI: "true", ALCHEMY_PASSWORD: env.ALCHEMY_PASSWORD });
    expect(unshared.code, unshared.stderr).toBe(0);
    expect(unshared.stderr).toMatch(/\blost\b/);
  });

  it("leaves a fresh preview alone on a dry-run sweep", async () => {
    const swept = await runAlchemy(dryRun.argv, dir, env);
    expect(swept.code, swept.stderr).toBe(0);
    expect(existsSync(path.join(dir, "out", "pr-123", "index.html"))).toBe(true);
  });

  it("destroys the stage when the pull request closes", async () => {
    const destroyed = await runAlchemy(destroy.argv, dir, env);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(existsSync(path.join(dir, "out", "pr-123"))).toBe(false);
  });
});

describe("the example's package.json", () => {
  it("depends on this checkout by path, never on a version range the registry's unrelated alchemy could satisfy", () => {
    const spec = (JSON.parse(readFileSync(path.join(here, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies.alchemy;
    expect(spec).toMatch(/^file:/);
    const target = path.resolve(here, spec.slice("file:".length));
    expect(target).toBe(REPO);
    expect((JSON.parse(readFileSync(path.join(target, "package.json"), "utf8")) as { name: string }).name).toBe("alchemy");
  });
});
