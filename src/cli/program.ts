/**
 * The `alchemy` command line: every command and flag, parsed once here into
 * typed options for the command that runs. Nothing below this file reads argv.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { runCommand, type RunCommandOptions } from "./commands/run.js";
import { INIT_TEMPLATES, initProject } from "./commands/init.js";
import { PROFILE_HELP, profileList, profileRm, profileSet, profileShow } from "./commands/profile.js";
import { stateList, stateRm, stateShow, stateUnprotect } from "./commands/state.js";
import { listStages } from "./commands/stages.js";
import { pruneStages } from "./commands/stages-prune.js";
import { nameProblem } from "../core/names.js";
import { stateExport, stateImport, stateMigrate } from "./commands/state-transfer.js";
import { IMPORT_FORMATS, stateImportV094 } from "./commands/state-import-v094.js";
import { stateRekey } from "./commands/state-rekey.js";
import { stateHistory } from "./commands/state-history.js";
import { GRAPH_FORMATS, type GraphFormat } from "../graph/graph-format.js";
import { unlock } from "./commands/unlock.js";
import { EXIT, UsageError } from "./exit-codes.js";
import type { CliIO } from "./io.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** What {@link checkCommandLine} found: the command that would run, or why the line is refused. */
export type CommandLineCheck = { ok: true; command: string } | { ok: false; error: string };

/** Stops a parse-only run just before the command's action, after commander has checked every flag. */
class ParsedOnly extends Error {
  constructor(readonly command: string) {
    super(command);
  }
}

/**
 * Parses `argv` (without `node` and the script) exactly as {@link runCli}
 * would, without running anything: unknown commands, unknown flags, missing
 * required flags and bad values are reported. Used to check the alchemy
 * commands a CI workflow runs.
 *
 * @example
 * checkCommandLine(["destroy", "--stage", "pr-12", "--force"]); // { ok: true, command: "destroy" }
 * checkCommandLine(["deploy", "--stag", "pr-12"]); // { ok: false, error: "error: unknown option '--stag' ..." }
 */
export function checkCommandLine(argv: string[]): CommandLineCheck {
  let errors = "";
  const sink = { write: (chunk: string) => (errors += chunk) };
  const io: CliIO = { stdout: { write: () => true }, stderr: sink, stdin: process.stdin, env: {}, cwd: process.cwd() };
  const program = buildProgram(io, argv, () => {}, true);
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof ParsedOnly) return { ok: true, command: error.command };
    if (error instanceof CommanderError && error.exitCode === 0) return { ok: true, command: "help" };
    return { ok: false, error: errors.trim() || (error as Error).message };
  }
  return { ok: false, error: "no command ran" };
}

/** Runs the command line `argv` (without `node` and the script) and resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, argv, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; every parse error is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

function buildProgram(io: CliIO, argv: string[], setExit: (code: number) => void, parseOnly = false): Command {
  const program = new Command("alchemy")
    .description("Infrastructure as TypeScript: deploy, plan and destroy the resources an alchemy.run.ts program declares.")
    .version(pkg.version, "-v, --version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .option("-C, --cwd <dir>", "run as if started in <dir> (the program's directory; state goes to its .alchemy/)")
    .exitOverride()
    .hook("preAction", (_program, actionCommand) => {
      if (parseOnly) throw new ParsedOnly(commandPath(actionCommand));
    })
    .hook("preAction", (thisCommand) => {
      const dir = thisCommand.opts().cwd as string | undefined;
      if (dir === undefined) return;
      const target = path.resolve(io.cwd, dir);
      if (!existsSync(target)) throw new UsageError(`-C ${dir}: directory ${target} does not exist.`);
      process.chdir(target);
      io.cwd = target;
    });
  const done = (code: number) => setExit(code);

  const runCmd = (name: "deploy" | "plan" | "destroy" | "read" | "refresh", description: string) =>
    program
      .command(name)
      .description(description)
      .argument("[entry]", "the program to run (default: ./alchemy.run.ts, then .js, .mjs)")
      .option("-s, --stage <stage>", "stage to work on (default: $ALCHEMY_STAGE, else $USER, else dev)")
      .option("-p, --profile <profile>", "credential profile (default: $ALCHEMY_PROFILE, else default)")
      .option("--json", "print one JSON document with every resource's action and the summary")
      .option("-q, --quiet", "no live progress: plain lines for changes and failures, then the summary")
      .option("--verbose", "show every error with its whole stack (and causes), not only its file:line:column")
      .option("--state <dir|store-url>", "state store when the program sets none: a directory or file:<dir>, sqlite:<file>, postgres://..., s3://bucket/prefix, r2://bucket/prefix or dynamodb://table (default: $ALCHEMY_STATE_STORE, else .alchemy)")
      .option("--local", "run providers on their local runtime (Cloudflare on Miniflare): no cloud, no credentials (default: $ALCHEMY_LOCAL)");

  runCmd("deploy", "create, update and delete resources so that they match the program")
    .option("--force", "update every resource, even those whose props did not change")
    .option("--adopt", "let create handlers take over resources that already exist")
    .option("--allow-deletes", "let orphan clean-up delete more than maxDeletes (by default half the stage); protect still holds")
    .option("--refresh", "read every recorded resource first; put back what was changed or deleted outside alchemy")
    .addOption(concurrencyOption())
    .addOption(lockTimeoutOption())
    .action(async (entry: string | undefined, flags) => done(await runCommand("deploy", entry, runOptions(flags, argv), io)));

  runCmd("plan", "show what deploy would do, changing nothing")
    .option("--detailed-exitcode", "exit 2 when the plan has changes (or, with --refresh, drift), 0 when it has none")
    .option("--refresh", "read every recorded resource first: show drift (changed or deleted outside alchemy) and plan to put it back")
    .option("--allow-deletes", "plan as deploy --allow-deletes would run")
    .action(async (entry: string | undefined, flags) => done(await runCommand("plan", entry, runOptions(flags, argv), io)));

  runCmd("destroy", "delete every resource of the stage, dependents first")
    .option("-f, --force", "do not ask for confirmation (required without a terminal)")
    .option("-y, --yes", "same as --force")
    .addOption(new Option("--strategy <strategy>", "delete one at a time, or independent resources at once").choices(["sequential", "parallel"]))
    .addOption(concurrencyOption())
    .addOption(lockTimeoutOption())
    .action(async (entry: string | undefined, flags) => done(await runCommand("destroy", entry, runOptions(flags, argv), io)));

  program
    .command("dev")
    .description("deploy locally (Cloudflare on Miniflare) and keep serving; runs again when the program or a Worker's source changes")
    .argument("[entry]", "the program to run (default: ./alchemy.run.ts, then .js, .mjs)")
    .option("-s, --stage <stage>", "stage to work on (default: $ALCHEMY_STAGE, else $USER, else dev)")
    .option("-p, --profile <profile>", "credential profile (default: $ALCHEMY_PROFILE, else default)")
    .option("-q, --quiet", "no live progress: plain lines for changes and failures, then the summary")
    .option("--verbose", "show every error with its whole stack (and causes), not only its file:line:column")
    .option("--state <dir|store-url>", "state store when the program sets none: a directory or file:<dir>, sqlite:<file>, postgres://..., s3://bucket/prefix, r2://bucket/prefix or dynamodb://table (default: $ALCHEMY_STATE_STORE, else .alchemy)")
    .addOption(lockTimeoutOption())
    .option("--allow-deletes", "let a run delete more than maxDeletes (by default half the stage); protect still holds")
    .action(async (entry: string | undefined, flags) => {
      const { devCommand } = await import("./commands/dev.js");
      const run = runOptions(flags, argv);
      done(await devCommand(entry, { command: run.command, state: run.state, stage: run.stage, profile: run.profile, quiet: run.quiet, verbose: run.verbose, lockTimeoutMs: run.lockTimeoutMs, allowDeletes: run.allowDeletes }, io));
    });

  runCmd("refresh", "record reality into state: read every recorded resource the program declares, change no resource")
    .option("--detailed-exitcode", "exit 2 when drift was found and recorded, 0 when there was none")
    .addOption(lockTimeoutOption())
    .action(async (entry: string | undefined, flags) => done(await runCommand("refresh", entry, runOptions(flags, argv), io)));

  runCmd("read", "run the program in read phase: print recorded outputs, change nothing").action(
    async (entry: string | undefined, flags) => done(await runCommand("read", entry, runOptions(flags, argv), io)),
  );

  const state = program.command("state").description("inspect and edit recorded state without running the program");
  const stateFlags = (cmd: Command) =>
    cmd
      .option("--state <dir|store-url>", "state store: a directory or file:<dir>, sqlite:<file>, postgres://..., s3://bucket/prefix, r2://bucket/prefix or dynamodb://table (default: $ALCHEMY_STATE_STORE, else .alchemy)")
      .option("--app <name>", "application name (default: the only application in the store)")
      .option("-p, --profile <profile>", "profile to run as, checked against the stage's stageProfileMapping (default: $ALCHEMY_PROFILE, else default)");
  stateFlags(state.command("list").description("list the resources recorded for a stage"))
    .option("-s, --stage <stage>", "stage (default: $ALCHEMY_STAGE, else $USER, else dev)")
    .option("--json", "print JSON")
    .action(async (flags) => done(await stateList({ ...stateOptions(flags, io.env), stage: flags.stage, json: !!flags.json }, io)));
  stateFlags(state.command("show").description("print the record of one resource").argument("<fqn>", "app/stage/.../id"))
    .option("--json", "print the raw record as JSON")
    .option("--at <run>", "the record as it was after that run (see alchemy state history); reads only")
    .action(async (fqn: string, flags) => done(await stateShow(fqn, { ...stateOptions(flags, io.env), json: !!flags.json, at: flags.at }, io)));
  stateFlags(state.command("history").description("the runs that changed a stage, newest first: who, when, outcome, and per resource the changed prop paths"))
    .option("-s, --stage <stage>", "stage (default: $ALCHEMY_STAGE, else $USER, else dev)")
    .option("--json", "print JSON")
    .option("--limit <n>", "only the newest n runs")
    .action(async (flags) => {
      const limit = flags.limit === undefined ? undefined : Number(flags.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit takes a whole number of runs (1 or more), got ${JSON.stringify(flags.limit)}.`);
      done(await stateHistory({ ...stateOptions(flags, io.env), stage: flags.stage, json: !!flags.json, limit }, io));
    });
  stateFlags(state.command("rm").description("forget a resource (and its resource scope) without deleting it").argument("<fqn>", "app/stage/.../id"))
    .option("--force", "forget it even when it, or a resource of its resource scope, is recorded with protect: true")
    .action(async (fqn: string, flags) => done(await stateRm(fqn, { ...stateOptions(flags, io.env), force: !!flags.force }, io)));
  stateFlags(state.command("unprotect").description("let the next run delete or replace a resource recorded with protect: true").argument("<fqn>", "app/stage/.../id"))
    .action(async (fqn: string, flags) => done(await stateUnprotect(fqn, stateOptions(flags, io.env), io)));
  stateFlags(state.command("stages").description("same as alchemy stages"))
    .option("--json", "print JSON")
    .action(async (flags) => done(await listStages({ ...stateOptions(flags, io.env), json: !!flags.json }, io)));

  stateFlags(state.command("migrate").description("copy every record of a stage to another store, under lock, verified; the source is unchanged"))
    .option("-s, --stage <stage>", "stage (default: $ALCHEMY_STAGE, else $USER, else dev)")
    .requiredOption("--to <store-url>", "target store: file:<dir>, sqlite:<file> or postgres://user@host/db[?schema=name]")
    .option("--from <store-url>", "source store (default: file:<--state>)")
    .action(async (flags) => done(await stateMigrate({ ...stateOptions(flags, io.env), stage: flags.stage, from: flags.from, to: flags.to, command: commandLine(argv) }, io)));
  stateFlags(state.command("export").description("print every record of a stage as one JSON document"))
    .option("-s, --stage <stage>", "stage (default: $ALCHEMY_STAGE, else $USER, else dev)")
    .option("--from <store-url>", "source store (default: file:<--state>)")
    .option("-o, --output <file>", "write to a file (mode 0600) instead of stdout")
    .option("--at <run>", "the stage exactly as it was after that run (see alchemy state history); reads only, takes no lock")
    .action(async (flags) => done(await stateExport({ ...stateOptions(flags, io.env), stage: flags.stage, from: flags.from, output: flags.output, at: flags.at, command: commandLine(argv) }, io)));
  stateFlags(state.command("import").description("write the records of an export into a store where that stage is empty; with --from alchemy-0.94, convert a stage Alchemy 0.94 wrote").argument("[file]", "an export, or - for stdin; with --from alchemy-0.94: the .alchemy directory Alchemy 0.94 wrote (default .alchemy)"))
    .option("--to <store-url>", "target store (default: file:<--state>)")
    .addOption(new Option("--from <format>", "convert state another tool wrote instead of reading an export (in place when --to is that directory; the original is kept as a backup)").choices(IMPORT_FORMATS))
    .option("-s, --stage <stage>", "with --from: the stage to convert (default: the only one there)")
    .action(async (file: string | undefined, flags) => {
      const opts = { ...stateOptions(flags, io.env), to: flags.to, command: commandLine(argv) };
      if (flags.from !== undefined) return done(await stateImportV094({ ...opts, stage: flags.stage, source: file }, io));
      if (flags.stage !== undefined) throw new UsageError("--stage goes with --from: an export names its own stage.");
      if (file === undefined) throw new UsageError("Pass the export to import (a file, or - for stdin), or --from alchemy-0.94 to convert a stage Alchemy 0.94 wrote.");
      done(await stateImport(file, opts, io));
    });

  stateFlags(state.command("rekey").description("re-encrypt every secret of a stage with a new password (old: ALCHEMY_PASSWORD; new: ALCHEMY_NEW_PASSWORD or a prompt)"))
    .option("-s, --stage <stage>", "stage (default: $ALCHEMY_STAGE, else $USER, else dev)")
    .action(async (flags) => done(await stateRekey({ ...stateOptions(flags, io.env), stage: flags.stage, command: commandLine(argv) }, io)));

  stateFlags(program.command("graph").description("draw a stage's resources and dependencies, grouped by scope, from its state (reads only)"))
    .option("-s, --stage <stage>", "stage (default: $ALCHEMY_STAGE, else $USER, else dev)")
    .addOption(new Option("--format <format>", "output format (default: the one -o's extension names, else dot)").choices(GRAPH_FORMATS))
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (flags) => {
      const { graphCommand } = await import("./commands/graph.js"); // loads the layout library only when drawing
      done(await graphCommand({ ...stateOptions(flags, io.env), stage: flags.stage, format: flags.format as GraphFormat | undefined, output: flags.output }, io));
    });

  stateFlags(program.command("ui").description("a local, read-only web app over the state: stages, scope tree, resources, graph, history, live deploys (127.0.0.1 only, token in the URL)"))
    .addOption(portOption())
    .action(async (flags) => {
      const { uiCommand } = await import("./commands/ui.js"); // loads the server and the layout library only when serving
      done(await uiCommand({ ...stateOptions(flags, io.env), port: flags.port as number | undefined }, io));
    });

  const stages = stateFlags(program.command("stages").description("every stage of the application in the store: resources, last deploy, lock"))
    .option("--json", "print JSON")
    .action(async (flags) => done(await listStages({ ...stateOptions(flags, io.env), json: !!flags.json }, io)));
  stateFlags(stages.command("prune").description("destroy stale stages one by one, each under its own lock, by running the program's destroy"))
    .argument("[entry]", "the program to run (default: ./alchemy.run.ts, then .js, .mjs)")
    .requiredOption("--match <glob>", "stages to consider, e.g. 'pr-*' (* any characters, ? one)")
    .addOption(new Option("--older-than <duration>", "destroy those last deployed longer ago than this, e.g. 7d, 12h, 2w").argParser(parseAge).makeOptionMandatory())
    .option("--keep <stages>", "comma-separated stages never destroyed, e.g. pr-12,pr-15", (value: string) => parseStageList(value), [] as string[])
    .option("--dry-run", "list what would be destroyed, destroy nothing")
    .option("-q, --quiet", "no live progress: plain lines for changes and failures, then the summary")
    .addOption(new Option("--strategy <strategy>", "delete one at a time, or independent resources at once").choices(["sequential", "parallel"]))
    .addOption(concurrencyOption())
    .action(async (entry: string | undefined, _own, command: Command) => {
      // `alchemy stages` defines --state and --app too, and commander hands them to it even when they follow `prune`.
      const flags = command.optsWithGlobals();
      const { state, stateFrom, app, profile } = stateOptions(flags, io.env);
      const age = flags.olderThan as { ms: number; spelled: string };
      done(
        await pruneStages(
          {
            state,
            stateFrom,
            app,
            profile,
            entry,
            match: flags.match as string,
            olderThanMs: age.ms,
            olderThan: age.spelled,
            keep: flags.keep as string[],
            dryRun: !!flags.dryRun,
            run: {
              command: commandLine(argv),
              state: flags.state as string | undefined,
              quiet: !!flags.quiet,
              strategy: flags.strategy as RunCommandOptions["strategy"],
              concurrency: flags.concurrency as number | undefined,
            },
          },
          io,
        ),
      );
    });

  stateFlags(program.command("unlock").description("release a stage's state lock left by a crashed run"))
    .requiredOption("-s, --stage <stage>", "stage whose lock to release")
    .option("--lock-id <id>", "release only the lock with this id")
    .action(async (flags) => done(await unlock({ ...stateOptions(flags, io.env), stage: flags.stage, lockId: flags.lockId }, io)));

  const profile = program.command("profile").description("credential profiles in $ALCHEMY_HOME/profiles.json (default ~/.alchemy)").addHelpText("after", PROFILE_HELP);
  profile
    .command("set")
    .description("set settings of a profile: provider.key=value ... (value - reads stdin; empty value removes)")
    .argument("<name>", "profile name")
    .argument("<assignments...>", "provider.key=value")
    .action(async (name: string, assignments: string[]) => done(await profileSet(name, assignments, io)));
  profile.command("show").description("a profile's settings, secrets redacted").argument("<name>", "profile name").option("--json", "print JSON")
    .action(async (name: string, flags) => done(await profileShow(name, { json: !!flags.json }, io)));
  profile.command("list").description("every profile, with its providers").option("--json", "print JSON")
    .action(async (flags) => done(await profileList({ json: !!flags.json }, io)));
  profile.command("rm").description("remove a profile").argument("<name>", "profile name")
    .action(async (name: string) => done(await profileRm(name, io)));

  program
    .command("init")
    .description("scaffold a project from a template: package.json, tsconfig, alchemy.run.ts, README, .gitignore and the template's sources")
    .argument("[dir]", "directory to create the project in", ".")
    .option("--name <name>", "application name (default: the directory's name)")
    .option("--force", "overwrite files that already exist")
    .addOption(
      new Option("--template <name>", "the project to scaffold (templates below)").choices(INIT_TEMPLATES).default("default"),
    )
    .addHelpText(
      "after",
      "\nTemplates:\n" +
        "  default     files and a random string (no account needed), with pull request preview workflows\n" +
        "  cloudflare  a Worker with D1 and KV, run on this machine by `npx alchemy dev`",
    )
    .action(async (dir: string, flags) => done(await initProject(dir, { name: flags.name, force: !!flags.force, template: flags.template }, io)));

  return program;
}

function portOption(): Option {
  return new Option("--port <n>", "port on 127.0.0.1 (default: a free one)").argParser((value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("must be a whole number from 0 to 65535 (0: any free port).");
    return n;
  });
}

function concurrencyOption(): Option {
  return new Option("--concurrency <n>", "most deletes at once under the parallel strategy (default 16)").argParser((value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer.");
    return n;
  });
}

/** `--older-than 7d`: a whole number of seconds, minutes, hours, days or weeks. */
function parseAge(value: string): { ms: number; spelled: string } {
  const match = /^(\d+)(s|m|h|d|w)$/.exec(value.trim());
  if (!match || Number(match[1]) === 0) throw new InvalidArgumentError("use a duration such as 7d, 12h, 30m or 2w.");
  const scale = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as "s" | "m" | "h" | "d" | "w"];
  return { ms: Number(match[1]) * scale, spelled: value.trim() };
}

/** `--keep pr-12,pr-15`: stage names, each checked. */
function parseStageList(value: string): string[] {
  const stages = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const stage of stages) {
    const problem = nameProblem(stage);
    if (problem !== undefined) throw new InvalidArgumentError(`${JSON.stringify(stage)} is not a stage name: it ${problem}.`);
  }
  return stages;
}

function lockTimeoutOption(): Option {
  return new Option("--lock-timeout <duration>", "wait this long for a stage another run has locked (e.g. 30s, 2m, 500ms; default: fail at once)").argParser(
    (value) => {
      const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
      if (!match) throw new InvalidArgumentError("use a duration such as 30s, 2m or 500ms.");
      const scale = { ms: 1, s: 1000, m: 60_000 }[(match[2] ?? "s") as "ms" | "s" | "m"];
      return Math.round(Number(match[1]) * scale);
    },
  );
}

function runOptions(flags: Record<string, unknown>, argv: string[]): RunCommandOptions {
  return {
    command: commandLine(argv),
    state: flags.state as string | undefined,
    lockTimeoutMs: flags.lockTimeout as number | undefined,
    stage: flags.stage as string | undefined,
    profile: flags.profile as string | undefined,
    json: !!flags.json,
    quiet: !!flags.quiet,
    force: !!flags.force,
    yes: !!flags.force || !!flags.yes,
    adopt: !!flags.adopt,
    allowDeletes: !!flags.allowDeletes,
    concurrency: flags.concurrency as number | undefined,
    strategy: flags.strategy as RunCommandOptions["strategy"],
    detailedExitcode: !!flags.detailedExitcode,
    refresh: !!flags.refresh,
    verbose: !!flags.verbose,
    local: flags.local ? true : undefined,
  };
}

/** The names from below the root down to `command`, e.g. `state migrate`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

function commandLine(argv: string[]): string {
  return ["alchemy", ...argv].join(" ");
}

/** `--state`, else `$ALCHEMY_STATE_STORE`, else the filesystem store in `.alchemy`; `--app` and `--profile` as given. */
function stateOptions(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): { state: string; stateFrom: string; app?: string; profile?: string } {
  const fromEnv = flags.state === undefined && !!env.ALCHEMY_STATE_STORE;
  return {
    state: (flags.state as string | undefined) ?? (env.ALCHEMY_STATE_STORE || ".alchemy"),
    stateFrom: fromEnv ? "$ALCHEMY_STATE_STORE" : "--state",
    app: flags.app as string | undefined,
    profile: flags.profile as string | undefined,
  };
}
