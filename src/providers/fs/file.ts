import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { isSecret, Resource, ResourceError, Secret, type Context, type PlanContext } from "../../index.js";
import { errorCode, resolveUnder, type Folder, type PathContext, type ResolvedPath } from "./folder.js";

/**
 * Props of a {@link File}. Give exactly one of `content` and `json`.
 */
export interface FileProps {
  /**
   * Where the file is: relative to `folder` when given, else to the
   * application's `rootDir`. An absolute path is used as is. Missing parent
   * directories are created.
   *
   * @example "config/app.json"
   */
  path: string;
  /**
   * The folder the file lives in. Passing the folder's output (not its `path`
   * string) records the dependency: the folder is created first and deleted
   * after the file.
   *
   * @default undefined (the path is relative to `rootDir`)
   */
  folder?: Folder;
  /**
   * The file's text, written as UTF-8. A {@link Secret} is written as its
   * value (and stays encrypted in state).
   *
   * @default undefined
   */
  content?: string | Secret;
  /**
   * A value written as pretty-printed JSON (two-space indent, trailing newline).
   * Resource outputs inside it are written as their output objects, and the
   * file then depends on those resources: it is rewritten when they change.
   * Secrets inside it (`alchemy.secret()`, a secret `RandomString`'s value)
   * are written as their values: the file is where they are meant to go.
   *
   * @default undefined
   */
  json?: unknown;
  /**
   * Permission bits set on the file, e.g. `0o600`. Applied exactly (the
   * process umask does not narrow them).
   *
   * @default 0o666 minus the process umask, for a new file
   */
  mode?: number;
}

/** Output of a {@link File}. */
export interface File {
  /** Absolute path of the file. */
  path: string;
  /** Path relative to the application's `rootDir`, with `/` separators. */
  relativePath: string;
  /** Size of the written content in bytes. */
  size: number;
  /** Hex SHA-256 of the written content; changes whenever the content does. */
  sha256: string;
}

/**
 * A file on the local filesystem, written from a string or a JSON value.
 *
 * Every write goes to a temporary file beside the target, is flushed to disk
 * and then renamed over the target, so readers never see a half-written file.
 *
 * - **create**: writes the file, overwriting one that already exists (a create
 *   retried after a crash adopts what the first attempt wrote). A failed create
 *   leaves at most a stray `.<name>.<random>.tmp` file and any parent
 *   directories it made; the record stays `creating` and the next run writes
 *   again.
 * - **replace**: when its resolved path changes (new `path`, or a folder at
 *   another path), declared with `replaceOnChanges`, so `alchemy plan` says
 *   `replace` too: the new file is written now and the old one removed when
 *   the scope is finalized (before its folder). A failure in between leaves
 *   both files on disk and the old one in state, removed by the next run that
 *   finishes. Two spellings of one path are the same file: an update.
 * - **update**: rewrites the file in place (content, json or mode changed).
 * - **delete**: removes the file; one that is already gone counts as deleted.
 *   Parent directories are left alone (a {@link Folder} owns those). A failed
 *   delete leaves the file and its record in place.
 * - **read** (`alchemy read`, and refreshes): the file as it is on disk. Its
 *   text is compared with what the recorded props write: edited by hand, it
 *   is reported in the props' terms (`content: "<h1>Hi</h1>" -> "<h1>edited
 *   by hand</h1>"`; `json.port: 8080 -> 9090`; a secret's text as
 *   `[secret]`; a `json` file whose text no longer parses, or that holds
 *   secrets, as `content`), with `mode` when given and changed, and `size`
 *   and `sha256` in the output. A file that is missing is gone; a directory
 *   in its place fails the read.
 *
 * @example
 * const out = await Folder("out", { path: "out" });
 * await File("readme", { folder: out, path: "README.md", content: "# Hello\n" });
 *
 * @example
 * // The file depends on the RandomString and is rewritten when it changes.
 * const secret = await RandomString("session-secret");
 * await File("config", { folder: out, path: "config.json", json: { secret } });
 *
 * @example
 * await File("key", { path: "out/key.txt", content: "s3cret", mode: 0o600 });
 */
export const File = Resource(
  "fs::File",
  {
    // Another absolute path is another file; another spelling of the same path is not.
    replaceOnChanges(this: PlanContext<File, FileProps>, props: FileProps): boolean {
      return this.output !== undefined && resolveFilePath(this, props).path !== this.output.path;
    },
    plannedOutput(this: PlanContext<File, FileProps>, id: string, props: FileProps): File {
      const { target, data } = plannedWrite(this, props);
      return fileOutput(target, data);
    },
    read: readFileAsFound,
  },
  async function (this: Context<File, FileProps>, id: string, props: FileProps): Promise<File> {
    if (this.phase === "delete") {
      const filePath = this.output?.path ?? interruptedCreatePath(this, props);
      if (filePath !== undefined) await removeIfPresent(filePath);
      return this.destroy();
    }
    // An update keeps the path (another path is a replacement, decided by replaceOnChanges).
    const { target, data } = plannedWrite(this, props);
    await mkdir(path.dirname(target.path), { recursive: true });
    await writeFileAtomic(target.path, data, props.mode);
    return fileOutput(target, data);
  },
);

/** The recorded file as it is on disk: its props as found (see {@link File}, read), or gone. */
async function readFileAsFound(this: Context<File, FileProps>): Promise<File> {
  const recorded = this.output;
  let data: Buffer;
  let mode: number;
  try {
    data = await readFile(recorded.path);
    mode = (await stat(recorded.path)).mode & 0o7777;
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return this.gone();
    throw new ResourceError(`Could not read file ${recorded.path} (${this.fqn}): ${String(error)}`, this.fqn, "read", { cause: error });
  }
  const output = fileOutput({ path: recorded.path, relativePath: recorded.relativePath }, data);
  const props = this.props;
  const found: FileProps = { ...props, ...foundText(this, props, data.toString("utf8")) };
  if (props.mode !== undefined && props.mode !== mode) found.mode = mode;
  return this.observed(output, found);
}

/** `content` or `json` as found on disk, in the terms the recorded props use (unchanged when the text is what they write). */
function foundText(ctx: PathContext, props: FileProps, text: string): Pick<FileProps, "content" | "json"> {
  if (renderContent(ctx, props) === text) return { content: props.content, json: props.json };
  if (props.content !== undefined) return { content: isSecret(props.content) ? new Secret(text) : text };
  if (!holdsSecret(props.json)) {
    try {
      return { json: JSON.parse(text) as unknown };
    } catch {
      // Not JSON any more: the text itself is what was found.
    }
  }
  // The recorded json holds secrets: the text is kept a secret too, so a refresh never prints them.
  return { json: undefined, content: holdsSecret(props.json) ? new Secret(text) : text };
}

function holdsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  return value !== null && typeof value === "object" && Object.values(value).some(holdsSecret);
}

function fileOutput(target: ResolvedPath, data: Buffer): File {
  return {
    path: target.path,
    relativePath: target.relativePath,
    size: data.byteLength,
    sha256: createHash("sha256").update(data).digest("hex"),
  };
}

/**
 * Where an interrupted create (a record without output) may have written the
 * file; `undefined` when its props were invalid, so nothing was written (and a
 * file the user has at that path is not ours to remove).
 */
function interruptedCreatePath(ctx: PathContext, props: FileProps | undefined): string | undefined {
  try {
    return plannedWrite(ctx, props).target.path;
  } catch {
    return undefined;
  }
}

/** Validates the props and computes what to write where. */
function plannedWrite(ctx: PathContext, props: FileProps | undefined): { target: ResolvedPath; data: Buffer } {
  const target = resolveFilePath(ctx, props);
  return { target, data: Buffer.from(renderContent(ctx, props!), "utf8") };
}

function resolveFilePath(ctx: PathContext, props: FileProps | undefined): ResolvedPath {
  if (typeof props?.path !== "string" || props.path.length === 0) {
    throw new ResourceError(
      `File ${ctx.fqn} needs a non-empty \`path\` string, e.g. File("${ctx.id}", { path: "out/${ctx.id}.txt", content: "..." }).`,
      ctx.fqn,
      ctx.phase,
    );
  }
  if (props.mode !== undefined && !(Number.isInteger(props.mode) && props.mode >= 0 && props.mode <= 0o7777)) {
    throw new ResourceError(
      `File ${ctx.fqn} has mode ${String(props.mode)}; use permission bits between 0 and 0o7777, e.g. 0o644.`,
      ctx.fqn,
      ctx.phase,
    );
  }
  return resolveUnder(ctx.scope.rootDir, props.folder, props.path);
}

/** The text to write: `content`, or `json` pretty-printed. */
function renderContent(ctx: PathContext, props: FileProps): string {
  const hasContent = props.content !== undefined;
  const hasJson = props.json !== undefined;
  if (hasContent === hasJson) {
    throw new ResourceError(
      `File ${ctx.fqn} (${props.path}) ${hasContent ? "has both `content` and `json`" : "has neither `content` nor `json`"}; ` +
        "give exactly one: `content` for text, `json` for a value to write as JSON.",
      ctx.fqn,
      ctx.phase,
    );
  }
  if (hasContent) {
    if (isSecret(props.content)) return props.content.unwrap();
    if (typeof props.content !== "string") {
      throw new ResourceError(
        `File ${ctx.fqn} (${props.path}) has a ${typeof props.content} \`content\`; pass a string, or use \`json\` for other values.`,
        ctx.fqn,
        ctx.phase,
      );
    }
    return props.content;
  }
  const text = JSON.stringify(props.json, unwrapSecrets, 2);
  if (text === undefined) {
    throw new ResourceError(
      `File ${ctx.fqn} (${props.path}) has a \`json\` value that JSON cannot represent (a ${typeof props.json}).`,
      ctx.fqn,
      ctx.phase,
    );
  }
  return text + "\n";
}

/**
 * A `JSON.stringify` replacer that writes each Secret's value: it looks at the
 * holder's own property, since the value it is handed has already been
 * through `Secret.toJSON` (`"[secret]"`).
 */
function unwrapSecrets(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  return isSecret(original) ? original.unwrap() : value;
}

/** Writes `data` to a temporary sibling, flushes it, then renames it over `target`. */
async function writeFileAtomic(target: string, data: Buffer, mode: number | undefined): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", mode ?? 0o666);
    try {
      await handle.writeFile(data);
      if (mode !== undefined) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function removeIfPresent(filePath: string): Promise<void> {
  try {
    await unlink(filePath);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
}
