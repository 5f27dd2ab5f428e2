import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, removeProject, REPO, runAlchemy } from "./cli.test-fixture.js";
import {
  mask,
  matchesTranscript,
  parseCommand,
  readmeBlock,
  runMerged,
  transcriptSteps,
  type TranscriptStep,
} from "./readme-transcript.test-fixture.js";
import { runnerEnv } from "../child-env.test-fixture.js";

const README = readFileSync(path.join(REPO, "README.md"), "utf8");
const SCRIPTS = (JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const MAIN = path.join(REPO, "src/cli/main.ts");
const TSX = path.join(REPO, "node_modules/tsx/dist/loader.mjs");
const SESSION_MARKER = "A session on the quickstart";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeProject));

/**
 * A temp directory laid out as the repository is for the quickstart:
 * examples/quickstart/alchemy.run.ts, with `alchemy` importable by name.
 */
function quickstartCopy(): string {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), "alchemy-readme-")));
  dirs.push(root);
  mkdirSync(path.join(root, "examples/quickstart"), { recursive: true });
  copyFileSync(path.join(REPO, "examples/quickstart/alchemy.run.ts"), path.join(root, "examples/quickstart/alchemy.run.ts"));
  mkdirSync(path.join(root, "node_modules"));
  symlinkSync(REPO, path.join(root, "node_modules/alchemy"), "dir");
  writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: "readme-session", private: true, type: "module" }));
  mkdirSync(path.join(root, "home"));
  return root;
}

/** A package.json script that runs the package's bin (`node dist/cli/main.js ...`), run from the sources instead. */
function fromSources(script: string): string[] {
  const bin = "node dist/cli/main.js";
  if (script !== bin && !script.startsWith(`${bin} `)) throw new Error(`Expected a script running ${bin}, got ${JSON.stringify(script)}.`);
  const args = script === bin ? [] : parseCommand(script.slice(bin.length)).argv;
  return [process.execPath, "--conditions", "source", "--import", TSX, MAIN, ...args];
}

/** What `alchemy` stands for in the session, as the README defines it: (`alchemy` = `npm run alchemy -- -C examples/quickstart`). */
function sessionAlchemy(): string[] {
  const definition = README.split("\n").find((line) => line.startsWith(SESSION_MARKER))?.match(/`alchemy` = `npm run alchemy -- ([^`]*)`/);
  if (!definition) throw new Error(`The line "${SESSION_MARKER} ..." must say what \`alchemy\` stands for.`);
  return [...fromSources(SCRIPTS.alchemy), ...parseCommand(definition[1]).argv];
}

/** The process a transcript command runs, in `root`: the commands README transcripts may use. */
function processFor(argv: string[], root: string): string[] {
  const [command, ...args] = argv;
  if (command === "alchemy") return [...sessionAlchemy(), ...args];
  if (command === "npm" && args[0] === "run" && args.length === 2) return fromSources(SCRIPTS[args[1]] ?? "");
  if (command === "sed") return argv;
  if (command === "rm" && args.every((arg) => !arg.startsWith("-") && !path.isAbsolute(arg) && !path.relative(root, path.resolve(root, arg)).startsWith(".."))) {
    return argv;
  }
  throw new Error(`README transcripts run alchemy, npm run <script>, sed and rm (files inside the project); not: ${argv.join(" ")}`);
}

/**
 * Runs each step's command in `root` and returns the transcript as the
 * README shows it and as the commands printed it (masked; a step that
 * matches the README is shown as the README has it), so that a failure is
 * a diff of the steps that differ.
 */
async function runTranscript(steps: TranscriptStep[], root: string, env: NodeJS.ProcessEnv): Promise<{ readme: string; actual: string }> {
  const readme: string[] = [];
  const actual: string[] = [];
  for (const step of steps) {
    const { argv, echoExit } = parseCommand(step.line);
    const result = await runMerged(processFor(argv, root), root, env);
    const printed = mask(result.output.replaceAll(root, "/...")).replace(/\n+$/, "");
    const lines = printed === "" ? [] : printed.split("\n");
    if (echoExit) lines.push(`exit ${result.code}`);
    else if (result.code !== 0) lines.push(`[exit ${result.code}, where the README shows no exit code: only 0 may go unshown]`);
    const expected = step.expected.map(mask);
    readme.push(`$ ${step.line}`, ...expected);
    actual.push(`$ ${step.line}`, ...(matchesTranscript(expected, lines) ? expected : lines));
  }
  return { readme: readme.join("\n"), actual: actual.join("\n") };
}

describe("the README's transcripts, run as written", () => {
  it("the top example: npm run quickstart deploys the stage named after $USER, then changes nothing", { timeout: 120_000 }, async () => {
    const root = quickstartCopy();
    const steps = transcriptSteps(readmeBlock(README, "## The quickstart"));
    expect(steps.map((s) => s.line)).toEqual(["npm run quickstart", "npm run quickstart"]);

    const { readme, actual } = await runTranscript(steps, root, { ...runnerEnv(), PATH: process.env.PATH, HOME: path.join(root, "home"), USER: "ada" });

    expect(actual).toBe(readme);
    expect(existsSync(path.join(root, "examples/quickstart/out/ada/site/index.html"))).toBe(true);
  });

  it("the session on the quickstart: every command prints what the README shows", { timeout: 300_000 }, async () => {
    const root = quickstartCopy();
    const steps = transcriptSteps(readmeBlock(README, SESSION_MARKER));
    expect(steps.length).toBeGreaterThan(10);

    const { readme, actual } = await runTranscript(steps, root, { ...runnerEnv(), PATH: process.env.PATH, HOME: path.join(root, "home"), USER: "ada" });

    expect(actual).toBe(readme);
    // The stage destroyed is gone from disk; the other stage was not touched.
    expect(existsSync(path.join(root, "examples/quickstart/out/dev"))).toBe(false);
    expect(readFileSync(path.join(root, "examples/quickstart/out/prod/site/index.html"), "utf8")).toBe("<h1>Hello from alchemy</h1>\n");
  });
});

describe("README transcripts", () => {
  it("split commands as a shell does, with an optional exit code echo and comment", () => {
    expect(parseCommand(`alchemy plan --stage dev --detailed-exitcode; echo "exit $?"`)).toEqual({
      argv: ["alchemy", "plan", "--stage", "dev", "--detailed-exitcode"],
      echoExit: true,
    });
    expect(parseCommand("sed -i 's/Hello from alchemy/Hello, world/' a.ts   # edit")).toEqual({
      argv: ["sed", "-i", "s/Hello from alchemy/Hello, world/", "a.ts"],
      echoExit: false,
    });
    expect(() => parseCommand("alchemy deploy && alchemy plan")).toThrow(/not supported/);
    expect(() => parseCommand("alchemy deploy; alchemy plan")).toThrow(/optionally followed by/);
  });

  it("match a line `...` to any run of lines and `...` in a line to any text, and nothing else", () => {
    expect(matchesTranscript(["a", "...", "z"], ["a", "z"])).toBe(true);
    expect(matchesTranscript(["a", "...", "z"], ["a", "b", "c", "z"])).toBe(true);
    expect(matchesTranscript(["✗ No state. Check ..."], ["✗ No state. Check the stage name (dev)."])).toBe(true);
    expect(matchesTranscript(["a", "z"], ["a", "b", "z"])).toBe(false);
    expect(matchesTranscript(["a (1.2s)"], ["a (1x2s)"])).toBe(false);
  });

  it("mask times, dates, ages, user@host and random values alike on both sides", () => {
    expect(mask("dev  6 resources  deployed 2026-11-21T12:49:03.371Z (2m ago) by ada@laptop   ")).toBe(
      "dev  6 resources  deployed <date> (<age>) by <user>@<host>",
    );
    expect(mask('created 6 in 0.2s; {"value":"5MR9jEnIpaV5aODj3FuxBXYX","length":24}')).toBe('created 6 in <time>; {"value":"<random>","length":24}');
  });
});

describe("a project made by alchemy init", () => {
  it("deploys as it is, and its second deploy changes nothing", async () => {
    const dir = makeProject({});
    dirs.push(dir);
    rmSync(path.join(dir, "package.json"));
    const init = await runAlchemy(["init", "--name", "demo"], dir);
    expect(init.code).toBe(0);
    for (const file of ["package.json", "tsconfig.json", "alchemy.run.ts", ".gitignore", ".github/workflows/preview.yml"]) {
      expect(existsSync(path.join(dir, file))).toBe(true);
    }
    const first = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/created \d+, updated 0, deleted 0, unchanged 0/);
    const second = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^No changes: \d+ unchanged/);
  });
});
