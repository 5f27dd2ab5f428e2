/**
 * `alchemy init [dir] [--template <name>]`: scaffolds a project that runs as
 * it is: by default one on providers that need no account, with GitHub
 * Actions workflows for pull request previews; `--template cloudflare`, a
 * Worker with D1 and KV run locally by `alchemy dev`. Never overwrites a file
 * unless told to.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AlchemyError, ScopeError } from "../../core/errors.js";
import { assertValidName } from "../../core/names.js";
import { EXIT, UsageError } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { cloudflareTemplate } from "./init-cloudflare-template.js";
import { defaultTemplate, gitignore, type ProjectTemplate, type ProjectVersions } from "./init-templates.js";

/** The templates of `alchemy init --template`, by name. */
const TEMPLATES = { default: defaultTemplate, cloudflare: cloudflareTemplate } satisfies Record<string, ProjectTemplate>;

/** A template of `alchemy init --template`. */
export type InitTemplate = keyof typeof TEMPLATES;

/**
 * The names `alchemy init --template` accepts, `default` first.
 *
 * @example
 * INIT_TEMPLATES; // ["default", "cloudflare"]
 */
export const INIT_TEMPLATES = Object.keys(TEMPLATES) as readonly InitTemplate[];

/** Options of `alchemy init`. */
export interface InitOptions {
  /**
   * Application name.
   * @default the directory's name
   */
  name?: string;
  /**
   * Overwrite files that already exist.
   * @default false
   */
  force: boolean;
  /**
   * Which project to write: `default` (a program on the fs and random
   * providers, with pull request preview workflows) or `cloudflare` (a Worker
   * with D1 and KV, run locally by `alchemy dev`). Any other name is a
   * {@link UsageError}.
   * @default "default"
   */
  template?: string;
}

/**
 * Writes the files of the template `opts.template` into `dir` (resolved
 * against `io.cwd`, created if missing): for `default`, package.json,
 * tsconfig.json, alchemy.run.ts, README.md and the preview and sweep
 * workflows; for `cloudflare`, package.json, tsconfig.json, alchemy.run.ts,
 * the Worker with its tsconfig, a D1 migration and README.md. Adds missing
 * lines to `.gitignore`. Resolves to the exit code: 1, with nothing written,
 * when a file exists and `force` is not set.
 *
 * @throws {UsageError} when the template is unknown or the application name is not valid; nothing is written
 * @example
 * await initProject("my-app", { force: false }, processIO());
 * await initProject("my-worker", { force: false, template: "cloudflare" }, processIO());
 */
export async function initProject(dir: string, opts: InitOptions, io: CliIO): Promise<number> {
  const template = templateNamed(opts.template ?? "default");
  const root = path.resolve(io.cwd, dir);
  const name = appName(root, opts.name);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    io.stderr.write(`error: ${root} exists and is not a directory. Pass a directory to create the project in.\n`);
    return EXIT.failed;
  }

  const alchemyRoot = alchemyPackageRoot();
  const versions = projectVersions(alchemyRoot);
  const files = template.files(name, versions);
  const existing = files.map(([file]) => file).filter((file) => existsSync(path.join(root, file)));
  if (existing.length > 0 && !opts.force) {
    io.stderr.write(
      `error: these files already exist in ${root}:\n${existing.map((f) => `  ${f}\n`).join("")}` +
        `Nothing was written. Run again with --force to overwrite them, or choose another directory.\n`,
    );
    return EXIT.failed;
  }

  const report: string[] = [];
  try {
    for (const [file, text] of files) {
      const target = path.join(root, file);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, text);
      report.push(`  ${existing.includes(file) ? "overwrote" : "created  "} ${file}`);
    }
    report.push(mergeGitignore(path.join(root, ".gitignore"), template.gitignoreLines));
  } catch (error) {
    io.stderr.write(`error: could not write the project in ${root}: ${(error as Error).message}\n`);
    return EXIT.failed;
  }

  const cd = path.relative(io.cwd, root);
  const warning = transientInstallWarning(alchemyRoot);
  if (warning) io.stderr.write(`${warning}\n`);
  io.stdout.write(
    `Initialized ${name} in ${root}\n${report.join("\n")}\n\n` +
      `package.json depends on this copy of alchemy: "alchemy": "${versions.alchemy}"\n\n` +
      `Next steps:\n` +
      `  ${cd ? `cd ${shellQuote(cd)} && ` : ""}npm install && ${template.firstRun}\n` +
      template.nextNotes,
  );
  return EXIT.ok;
}

/** The template called `name`; a {@link UsageError} naming the templates when there is none. */
function templateNamed(name: string): ProjectTemplate {
  if (Object.hasOwn(TEMPLATES, name)) return TEMPLATES[name as InitTemplate];
  throw new UsageError(`--template: unknown template ${JSON.stringify(name)}. Choose one of: ${INIT_TEMPLATES.join(", ")}.`);
}

/** The application name: `--name`, else the directory's name; a {@link UsageError} when it is not valid. */
function appName(root: string, given: string | undefined): string {
  const name = given ?? path.basename(root);
  try {
    assertValidName(name, "application", name);
    return name;
  } catch (error) {
    if (!(error instanceof ScopeError)) throw error;
    if (given !== undefined) throw new UsageError(`--name: ${error.message}`);
    throw new UsageError(
      `The directory name ${JSON.stringify(name)} is not a valid application name. ` +
        `Choose one with --name, e.g. --name ${suggestName(name)}.`,
    );
  }
}

function suggestName(name: string): string {
  const slug = name.replace(/[^\p{L}\p{N}\p{M}_.-]+/gu, "-").replace(/^[-.]+|[-.]+$/g, "");
  return slug || "my-app";
}

/** Appends the `lines` the file lacks; says what it did. */
function mergeGitignore(file: string, lines: readonly string[]): string {
  if (!existsSync(file)) {
    writeFileSync(file, gitignore(lines));
    return "  created   .gitignore";
  }
  const text = readFileSync(file, "utf8");
  const present = new Set(text.split(/\r?\n/).map((line) => line.trim().replace(/^\//, "").replace(/\/$/, "")));
  const missing = lines.filter((line) => !present.has(line.replace(/\/$/, "")));
  if (missing.length === 0) return "  kept      .gitignore (already complete)";
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  writeFileSync(file, `${text}${separator}${missing.join("\n")}\n`);
  return `  updated   .gitignore (added ${missing.join(", ")})`;
}

/**
 * Versions for the generated package.json: `alchemy` is the copy running
 * this command, the tools are those alchemy itself is built with.
 */
function projectVersions(root: string): ProjectVersions {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
    devDependencies?: Record<string, string>;
  };
  const dev = pkg.devDependencies ?? {};
  return {
    alchemy: alchemyDependencySpec(root),
    typescript: dev["typescript"] ?? "~5.9.3",
    typesNode: dev["@types/node"] ?? "^20.19.0",
    tsx: dev["tsx"] ?? "^4.23.0",
    esbuild: dev["esbuild"] ?? "^0.28.2",
    workersTypes: dev["@cloudflare/workers-types"] ?? "4.20260426.1",
  };
}

/**
 * The spec of the `alchemy` dependency for a project made by the copy of
 * alchemy installed at `packageRoot`: always a `file:` path to that copy.
 *
 * The name `alchemy` on the npm registry belongs to another project (Alchemy
 * 0.94), and this package is published under no other name, so a version
 * range such as `^0.1.0` would install that other package, and an `npm:` alias
 * has nothing to point to. A `file:` path resolves to this copy only, from
 * any directory: npm links it into the project's `node_modules`, fetching
 * nothing, so the project imports exactly the alchemy that made it. That copy
 * is a source checkout (built by `npm install` there), a global install
 * (`npm install -g .` links the checkout; `npm install -g alchemy-0.1.0.tgz`
 * copies the tarball under the global `lib/node_modules/`), or any other
 * installed copy. The path is absolute, so the project may move; another
 * machine needs alchemy at that path, or the line changed to where it has it.
 *
 * @example
 * alchemyDependencySpec("/usr/lib/node_modules/alchemy"); // "file:/usr/lib/node_modules/alchemy"
 * alchemyDependencySpec("/home/ada/src/alchemy");         // "file:/home/ada/src/alchemy"
 */
export function alchemyDependencySpec(packageRoot: string): string {
  return `file:${packageRoot}`;
}

/**
 * A warning when the copy at `packageRoot` lives in npx's cache
 * (`~/.npm/_npx/<hash>/node_modules/alchemy`, as `npx ./alchemy-0.1.0.tgz init`
 * leaves it), which npm may clear at any time, taking the project's
 * dependency with it; `undefined` for a lasting install.
 *
 * @example
 * transientInstallWarning("/home/ada/.npm/_npx/4f1c/node_modules/alchemy"); // "warning: ..."
 * transientInstallWarning("/usr/lib/node_modules/alchemy");                 // undefined
 */
export function transientInstallWarning(packageRoot: string): string | undefined {
  if (!packageRoot.split(/[\\/]/).includes("_npx")) return undefined;
  return (
    `warning: this alchemy runs from npx's cache (${packageRoot}), which npm may clear, ` +
    `and package.json depends on that path. Install alchemy for good ` +
    `(npm install -g <its checkout or tarball>) and run init with that copy, or edit the "alchemy" dependency.`
  );
}

/**
 * The directory of the package.json named "alchemy" nearest above this file
 * (src/ or dist/), with symbolic links resolved: `npm install -g .` and
 * `npm link` reach a checkout through a link that `npm unlink` removes.
 */
function alchemyPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "alchemy") return realpathSync(dir);
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new AlchemyError(`No package.json named "alchemy" above ${fileURLToPath(import.meta.url)}: this copy of alchemy is incomplete; reinstall it.`);
    }
    dir = parent;
  }
}

/** `dir` quoted for a POSIX shell when it needs to be. */
function shellQuote(dir: string): string {
  return /^[\w@%+=:,./-]+$/.test(dir) ? dir : `'${dir.replace(/'/g, `'\\''`)}'`;
}
