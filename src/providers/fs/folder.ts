import { mkdir, rm, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { Resource, ResourceError, type Context, type PlanContext } from "../../index.js";

/** Props of a {@link Folder}. */
export interface FolderProps {
  /**
   * Where the folder is: relative to `parent` when given, else to the
   * application's `rootDir`. An absolute path is used as is.
   *
   * @example "out/site"
   */
  path: string;
  /**
   * The folder this one lives in. Passing the parent's output (not its
   * `path` string) records the dependency, so the parent is created first and
   * deleted last.
   *
   * @default undefined (the path is relative to `rootDir`)
   */
  parent?: Folder;
  /**
   * Delete the folder together with everything in it. Without it, deleting a
   * folder that still holds files fails and the folder stays in state.
   *
   * @default false
   */
  clean?: boolean;
}

/** Output of a {@link Folder}. */
export interface Folder {
  /** Absolute path of the folder. */
  path: string;
  /**
   * Path relative to the application's `rootDir`, for display
   * (`"out/site"`; starts with `..` when the folder is outside it).
   */
  relativePath: string;
}

/**
 * A directory on the local filesystem.
 *
 * - **create**: `mkdir -p`. A folder that already exists is adopted as is, so a
 *   create retried after a crash succeeds. A failed create may leave some of
 *   the missing parent directories behind; the record stays `creating` and
 *   the next run creates again.
 * - **replace**: when the resolved absolute path changes (new `path` or a
 *   parent at another path), declared with `replaceOnChanges`, so `alchemy
 *   plan` says `replace` too: the new folder is created now and the old one is
 *   deleted when the scope is finalized, after the files that lived in it. Two
 *   spellings of one path (`out` and `./out`, or `out/site` and `site` under a
 *   parent at `out`) are the same folder: that is an update, never a
 *   replacement that would delete the folder it just made.
 * - **update**: changing only `clean` touches nothing on disk, and the output
 *   stays the same, so resources inside the folder are not updated (and plan,
 *   which knows the output from the props, says so).
 * - **delete**: removes the folder if it is empty, or with all its contents
 *   when `clean` is true. A folder that is already gone counts as deleted. A
 *   folder that still holds files (and is not `clean`) makes the delete fail:
 *   nothing is removed and the resource stays in state, so the next run tries
 *   again.
 * - **read** (`alchemy read`, and refreshes): whether the folder still exists.
 *   A missing folder (removed or renamed by hand) is gone; a file in its
 *   place fails the read. What it holds is not its own: files are resources
 *   of their own, read on their own.
 *
 * For safety a folder may not resolve to the filesystem root, to the
 * application's `rootDir` or to one of its ancestors.
 *
 * @example
 * const out = await Folder("out", { path: "out" });
 * const site = await Folder("site", { path: "site", parent: out }); // out/site
 * const tmp = await Folder("tmp", { path: "tmp", clean: true });    // deleted with its contents
 */
export const Folder = Resource(
  "fs::Folder",
  {
    // Another absolute path is another folder; another spelling of the same path is not.
    replaceOnChanges(this: PlanContext<Folder, FolderProps>, props: FolderProps): boolean {
      return this.output !== undefined && resolveFolderPath(this, props).path !== this.output.path;
    },
    plannedOutput(this: PlanContext<Folder, FolderProps>, id: string, props: FolderProps): Folder {
      return folderOutput(resolveFolderPath(this, props));
    },
    async read(this: Context<Folder, FolderProps>): Promise<Folder> {
      let isDirectory: boolean;
      try {
        isDirectory = (await stat(this.output.path)).isDirectory();
      } catch (error) {
        if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return this.gone();
        throw new ResourceError(`Could not read folder ${this.output.path} (${this.fqn}): ${String(error)}`, this.fqn, "read", { cause: error });
      }
      if (!isDirectory) {
        throw new ResourceError(
          `Folder ${this.output.path} (${this.fqn}) is a file now, not a folder. Move the file away and deploy to make the folder again.`,
          this.fqn,
          "read",
        );
      }
      return this.output;
    },
  },
  async function (this: Context<Folder, FolderProps>, id: string, props: FolderProps): Promise<Folder> {
    if (this.phase === "delete") {
      const folderPath = this.output?.path ?? interruptedCreatePath(this, props);
      // `props` are the recorded props of the instance being deleted.
      if (folderPath !== undefined) await deleteFolder(folderPath, props?.clean ?? false, this.fqn);
      return this.destroy();
    }
    // An update keeps the path (another path is a replacement, decided by replaceOnChanges).
    const target = resolveFolderPath(this, props);
    await mkdir(target.path, { recursive: true });
    return folderOutput(target);
  },
);

/** The output for a resolved path: `clean` stays out of it, so changing it does not touch dependents. */
function folderOutput(target: ResolvedPath): Folder {
  return { path: target.path, relativePath: target.relativePath };
}

/**
 * What path resolution needs of a handler's `this` (or a plan's). Shared by
 * {@link Folder} and `File`; not part of the public API.
 *
 * @internal
 */
export type PathContext = Pick<Context<unknown, unknown>, "phase" | "fqn" | "id" | "scope">;

/** Removes a folder; already gone is fine, non-empty without `clean` is an error. */
async function deleteFolder(folderPath: string, clean: boolean, fqn: string): Promise<void> {
  if (clean) {
    await rm(folderPath, { recursive: true, force: true });
    return;
  }
  try {
    await rmdir(folderPath);
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT") return;
    if (code === "ENOTEMPTY" || code === "EEXIST") {
      throw new ResourceError(
        `Folder ${folderPath} (${fqn}) is not empty, so it was not deleted and stays in state. ` +
          `Remove its contents, or set \`clean: true\` on the Folder to delete them with it, then run again.`,
        fqn,
        "delete",
        { cause: error },
      );
    }
    throw new ResourceError(`Could not delete folder ${folderPath} (${fqn}): ${String(error)}`, fqn, "delete", {
      cause: error,
    });
  }
}

/**
 * Where an interrupted create (a record without output) may have made the
 * folder; `undefined` when its props were invalid, so nothing was made.
 */
function interruptedCreatePath(ctx: PathContext, props: FolderProps | undefined): string | undefined {
  try {
    return resolveFolderPath(ctx, props).path;
  } catch {
    return undefined;
  }
}

/** Where a folder's props point, checked against the safety rules. */
function resolveFolderPath(ctx: PathContext, props: FolderProps | undefined): ResolvedPath {
  const operation = ctx.phase;
  if (typeof props?.path !== "string" || props.path.length === 0) {
    throw new ResourceError(
      `Folder ${ctx.fqn} needs a non-empty \`path\` string, e.g. Folder("${ctx.id}", { path: "out" }).`,
      ctx.fqn,
      operation,
    );
  }
  const rootDir = ctx.scope.rootDir;
  const target = resolveUnder(rootDir, props.parent, props.path);
  const reason =
    target.path === path.parse(target.path).root
      ? "the filesystem root"
      : target.path === rootDir
        ? "the application's rootDir"
        : rootDir.startsWith(target.path.endsWith(path.sep) ? target.path : target.path + path.sep)
          ? `an ancestor of the application's rootDir (${rootDir})`
          : undefined;
  if (reason) {
    throw new ResourceError(
      `Folder ${ctx.fqn} resolves to ${target.path}, ${reason}; deleting it would delete the project. ` +
        "Point `path` at a subfolder, e.g. \"out\".",
      ctx.fqn,
      operation,
    );
  }
  return target;
}

/** An absolute path and its display form relative to the application's root. */
export interface ResolvedPath {
  /** Absolute path. */
  path: string;
  /** Relative to `rootDir`, with `/` separators. */
  relativePath: string;
}

/**
 * Resolves `relative` against a folder output when given, else against `rootDir`.
 * Shared by {@link Folder} and `File`; not part of the public API.
 *
 * @internal
 * @example
 * resolveUnder("/app", { path: "/app/out" }, "a.txt"); // { path: "/app/out/a.txt", relativePath: "out/a.txt" }
 */
export function resolveUnder(rootDir: string, folder: { path: string } | undefined, relative: string): ResolvedPath {
  const absolute = path.resolve(rootDir, folder?.path ?? ".", relative);
  return { path: absolute, relativePath: path.relative(rootDir, absolute).split(path.sep).join("/") };
}

/**
 * The `code` of a Node.js system error (`"ENOENT"`), or `undefined`.
 *
 * @internal
 * @example
 * errorCode(Object.assign(new Error("gone"), { code: "ENOENT" })); // "ENOENT"
 */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
