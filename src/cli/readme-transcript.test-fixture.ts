/**
 * README shell transcripts as tests: a ```sh block of `$ command` lines, each
 * followed by what it prints, is cut into steps; a test runs each command and
 * compares its output with the README's lines, after masking what differs
 * from run to run (times, dates, user and host names, random values).
 *
 * In the README's expected lines, a line `...` stands for any number of
 * lines, and `...` inside a line for any text: the README may elide, never
 * differ.
 *
 * @module
 */
import { spawn } from "node:child_process";

/** One `$ command` of a transcript and the lines the README shows below it. */
export interface TranscriptStep {
  /** The command as written, after `$ `. */
  line: string;
  /** The lines below it, up to the next command or the end of the block. */
  expected: string[];
}

/** A command of a transcript, as a shell would split it. */
export interface ParsedCommand {
  /** The command's words: `["alchemy", "plan", "--stage", "dev"]`. */
  argv: string[];
  /** Followed by `; echo "exit $?"`: its exit code is shown as the line `exit N`. */
  echoExit: boolean;
}

/**
 * The lines of the ```sh block that follows the first line of `markdown`
 * starting with `marker`; throws when there is none.
 *
 * @example
 * readmeBlock(readFileSync("README.md", "utf8"), "A session on the quickstart");
 */
export function readmeBlock(markdown: string, marker: string): string[] {
  const lines = markdown.split("\n");
  const at = lines.findIndex((line) => line.startsWith(marker));
  if (at < 0) throw new Error(`README has no line starting with ${JSON.stringify(marker)}.`);
  const open = lines.findIndex((line, i) => i > at && line.startsWith("```"));
  const close = lines.findIndex((line, i) => i > open && line.startsWith("```"));
  if (open < 0 || close < 0 || lines[open] !== "```sh") {
    throw new Error(`No \`\`\`sh block follows ${JSON.stringify(marker)} in the README.`);
  }
  return lines.slice(open + 1, close);
}

/**
 * The steps of a transcript: every `$ ` line with the lines below it.
 *
 * @example
 * transcriptSteps(["$ alchemy stages", "dev  6 resources ..."]); // [{ line: "alchemy stages", expected: ["dev  6 resources ..."] }]
 */
export function transcriptSteps(lines: string[]): TranscriptStep[] {
  const steps: TranscriptStep[] = [];
  for (const line of lines) {
    if (line.startsWith("$ ")) steps.push({ line: line.slice(2), expected: [] });
    else if (steps.length === 0) throw new Error(`The transcript starts with output, not a command: ${JSON.stringify(line)}`);
    else steps[steps.length - 1].expected.push(line);
  }
  return steps;
}

/**
 * Splits a command line as a POSIX shell would for the forms transcripts use:
 * words, '…' and "…" quotes, a trailing `# comment`, and an optional
 * `; echo "exit $?"`. Anything else (pipes, `&&`, redirections) is refused, so
 * that a transcript cannot show a command its test does not run as shown.
 *
 * @example
 * parseCommand(`alchemy plan --detailed-exitcode; echo "exit $?"`); // { argv: ["alchemy", "plan", "--detailed-exitcode"], echoExit: true }
 */
export function parseCommand(line: string): ParsedCommand {
  const segments: string[][] = [[]];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === " " || c === "\t") {
      i++;
    } else if (c === "#") {
      break;
    } else if (c === ";") {
      segments.push([]);
      i++;
    } else if ("|&<>`".includes(c)) {
      throw new Error(`Transcript commands are simple commands; ${JSON.stringify(c)} in ${JSON.stringify(line)} is not supported.`);
    } else {
      let word = "";
      while (i < line.length && !" \t;|&<>#`".includes(line[i])) {
        const q = line[i];
        if (q === "'" || q === '"') {
          const end = line.indexOf(q, i + 1);
          if (end < 0) throw new Error(`Unclosed ${q} in ${JSON.stringify(line)}.`);
          word += line.slice(i + 1, end);
          i = end + 1;
        } else {
          word += q;
          i++;
        }
      }
      segments[segments.length - 1].push(word);
    }
  }
  const [argv, ...rest] = segments;
  const echoExit = rest.length === 1 && rest[0].length === 2 && rest[0][0] === "echo" && rest[0][1] === "exit $?";
  if (argv.length === 0 || (rest.length > 0 && !echoExit)) {
    throw new Error(`Transcript commands are one command, optionally followed by \`; echo "exit $?"\`: ${JSON.stringify(line)}.`);
  }
  return { argv, echoExit };
}

/** What differs from run to run, with what stands for it on both sides. */
const MASKS: ReadonlyArray<[RegExp, string]> = [
  [/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g, "<date>"],
  [/\(\d+[smhd] ago\)/g, "(<age>)"],
  [/\b\d+(?:\.\d+)?m?s\b/g, "<time>"],
  [/\bby [^\s@]+@\S+/g, "by <user>@<host>"],
  // Generated values (random strings, ids) are long runs of letters and digits.
  [/"[A-Za-z0-9]{20,}"/g, '"<random>"'],
];

/**
 * `text` with times, dates, ages, `user@host` and random values replaced by
 * placeholders, trailing spaces dropped from each line.
 *
 * @example
 * mask("created 6 in 0.2s"); // "created 6 in <time>"
 */
export function mask(text: string): string {
  let masked = text;
  for (const [pattern, placeholder] of MASKS) masked = masked.replace(pattern, placeholder);
  return masked
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
}

/**
 * Whether `actual` lines match the README's `expected` lines: equal, except
 * that an `expected` line `...` matches any run of lines (none included),
 * and `...` inside a line matches any text.
 *
 * @example
 * matchesTranscript(["a", "...", "z"], ["a", "b", "c", "z"]); // true
 */
export function matchesTranscript(expected: string[], actual: string[]): boolean {
  const linePatterns = expected.map((line) =>
    line === "..." ? undefined : new RegExp(`^${line.split("...").map(escapeRegExp).join(".*")}$`),
  );
  const memo = new Map<string, boolean>();
  const match = (e: number, a: number): boolean => {
    const key = `${e},${a}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (e === expected.length) result = a === actual.length;
    else if (linePatterns[e] === undefined) result = match(e + 1, a) || (a < actual.length && match(e, a + 1));
    else result = a < actual.length && linePatterns[e]!.test(actual[a]) && match(e + 1, a + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Exit code and output (stdout and stderr through one pipe, in the order written) of a command. */
export interface MergedResult {
  code: number | null;
  output: string;
}

/**
 * Runs `argv` in `cwd` with stdout and stderr on one pipe, as a terminal
 * shows them, and no terminal.
 */
export function runMerged(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<MergedResult> {
  const child = spawn("/bin/sh", ["-c", 'exec "$@" 2>&1', "sh", ...argv], { cwd, env, stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}
