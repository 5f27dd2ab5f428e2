/**
 * `alchemy init [dir]`: scaffolds a project that deploys as it is, with
 * GitHub Actions workflows for pull request previews. Never overwrites a file
 * unless told to.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AlchemyError, ScopeError } from "../../core/errors.js";
import { assertValidName } from "../../core/names.js";
import { EXIT, UsageError } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import {
  GITIGNORE_LINES,
  alchemyRunTs,
  gitignore,
  packageJson,
  previewWorkflow,
  readme,
  sweepWorkflow,
  tsconfigJson,
  type ProjectVersions,
} from "./init-templates.js";

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
}

/**
 * Writes package.json, tsconfig.json, alchemy.run.ts, README.md and the
 * preview and sweep workflows into `dir` (resolved against `io.cwd`, created
 * if missing), and adds missing lines to `.gitignore`. Resolves to the exit code: 1, with
 * nothing written, when a file exists and `force` is not set.
 *
 * @throws {UsageError} when the application name is not valid
 * @example
 * await initProject("my-app", { force: false }, processIO());
 */
export async function initProject(dir: string, opts: InitOptions, io: CliIO): Promise<number> {
  const root = path.resolve(io.cwd, dir);
  const name = appName(root, opts.name);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    io.stderr.write(`error: ${root} exists and is not a directory. Pass a directory to create the project in.\n`);
    return EXIT.failed;
  }

  const files: Array<[string, string]> = [
    ["package.json", packageJson(name, projectVersions())],
    ["tsconfig.json", tsconfigJson()],
    ["alchemy.run.ts", alchemyRunTs(name)],
    ["README.md", readme(name)],
    [path.join(".github", "workflows", "preview.yml"), previewWorkflow()],
    [path.join(".github", "workflows", "sweep-previews.yml"), sweepWorkflow(name)],
  ];
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
    report.push(mergeGitignore(path.join(root, ".gitignore")));
  } catch (error) {
    io.stderr.write(`error: could not write the project in ${root}: ${(error as Error).message}\n`);
    return EXIT.failed;
  }

  const cd = path.relative(io.cwd, root);
  io.stdout.write(
    `Initialized ${name} in ${root}\n${report.join("\n")}\n\n` +
      `Next steps:\n` +
      `  ${cd ? `cd ${shellQuote(cd)} && ` : ""}npm install && npx alchemy deploy\n` +
      `Then \`npx alchemy plan\` shows what a deploy would change, and \`npx alchemy destroy\` deletes the stage.\n` +
      `Before relying on .github/workflows/preview.yml and sweep-previews.yml, read the note on state atop preview.yml.\n`,
  );
  return EXIT.ok;
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

/** Appends the lines of {@link GITIGNORE_LINES} the file lacks; says what it did. */
function mergeGitignore(file: string): string {
  if (!existsSync(file)) {
    writeFileSync(file, gitignore());
    return "  created   .gitignore";
  }
  const text = readFileSync(file, "utf8");
  const present = new Set(text.split(/\r?\n/).map((line) => line.trim().replace(/^\//, "").replace(/\/$/, "")));
  const missing = GITIGNORE_LINES.filter((line) => !present.has(line.replace(/\/$/, "")));
  if (missing.length === 0) return "  kept      .gitignore (already complete)";
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  writeFileSync(file, `${text}${separator}${missing.join("\n")}\n`);
  return `  updated   .gitignore (added ${missing.join(", ")})`;
}

/**
 * Versions for the generated package.json, taken from this package's own
 * package.json so that the project builds with the tools alchemy is built with.
 */
function projectVersions(): ProjectVersions {
  const root = alchemyPackageRoot();
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
    version: string;
    devDependencies?: Record<string, string>;
  };
  const dev = pkg.devDependencies ?? {};
  return {
    alchemy: alchemyDependencySpec(root, pkg.version),
    typescript: dev["typescript"] ?? "~5.9.3",
    typesNode: dev["@types/node"] ?? "^20.19.0",
    tsx: dev["tsx"] ?? "^4.23.0",
  };
}

/**
 * The spec of the `alchemy` dependency for a project made by this copy of
 * alchemy at `packageRoot`.
 *
 * Installed from the registry (the package sits in a `node_modules`
 * directory), the project asks for the same release line. Run from a source
 * checkout, this version may not be published at all, or the checkout may
 * hold changes no release has: the project then links the checkout itself,
 * which must be built (`npm run build`) for its `dist/` to exist, and which
 * only resolves on this machine.
 *
 * @example
 * alchemyDependencySpec("/app/node_modules/alchemy", "0.1.0"); // "^0.1.0"
 * alchemyDependencySpec("/home/me/alchemy", "0.1.0");          // "file:/home/me/alchemy"
 */
export function alchemyDependencySpec(packageRoot: string, version: string): string {
  return packageRoot.split(/[\\/]/).includes("node_modules") ? `^${version}` : `file:${packageRoot}`;
}

/** The directory of the package.json named "alchemy" nearest above this file (src/ or dist/). */
function alchemyPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "alchemy") return dir;
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
