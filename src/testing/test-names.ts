/**
 * How `alchemy.test` names what it creates: one application per test file,
 * one stage per test. Both are path segments of the state layout, so they are
 * reduced to characters every store accepts, and kept short.
 *
 * @module
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The part of `import.meta` that `alchemy.test` reads. */
export interface TestFileMeta {
  /** `file:` URL of the test file. */
  url: string;
  /** Absolute path of the test file (Node 20.11+ and vitest set it). */
  filename?: string;
}

/** Longest application name a test file gets. */
export const MAX_APP_NAME = 100;
/** Longest stage name derived from a test's name (before a `$ALCHEMY_STAGE-` prefix and a `-2` suffix). */
export const MAX_STAGE_SLUG = 60;
/** Stage of a test whose name is unknown (outside vitest, or in a concurrent test of form 1). */
export const UNNAMED_STAGE = "test";

/**
 * The test file's path relative to `cwd`, with `/` separators: how messages
 * name the file.
 *
 * @example
 * testFileLabel({ url: "file:///repo/src/storage/bucket.test.ts" }, "/repo"); // "src/storage/bucket.test.ts"
 */
export function testFileLabel(meta: TestFileMeta, cwd = process.cwd()): string {
  const file = meta.filename ?? fileURLToPath(meta.url);
  return path.relative(cwd, file).split(path.sep).join("/");
}

/**
 * The application a test file's scopes belong to: its path relative to `cwd`,
 * separators and every character outside `[A-Za-z0-9._-]` replaced by `-`,
 * leading dots and dashes dropped (a name starting with "." reads as hidden),
 * cut to {@link MAX_APP_NAME} characters with a hash of the whole when longer.
 *
 * @example
 * testAppName({ url: "file:///repo/src/storage/bucket.test.ts" }, "/repo"); // "src-storage-bucket.test.ts"
 */
export function testAppName(meta: TestFileMeta, cwd = process.cwd()): string {
  const name = testFileLabel(meta, cwd).replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[.-]+/, "") || "test-file";
  return shorten(name, MAX_APP_NAME);
}

/**
 * A stage name made from a test's name: lower case, every run of characters
 * outside `[a-z0-9]` turned into one `-`, trimmed, at most
 * {@link MAX_STAGE_SLUG} characters (cut, with a hash of the whole, when longer).
 *
 * @example
 * stageSlug("Bucket > is private by default"); // "bucket-is-private-by-default"
 */
export function stageSlug(testName: string): string {
  const slug = testName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slug === "" ? UNNAMED_STAGE : shorten(slug, MAX_STAGE_SLUG, testName);
}

/**
 * The stage a test runs in when no `stage` option is given: the slug of its
 * name (or {@link UNNAMED_STAGE}), after `$ALCHEMY_STAGE-` when that is set, so
 * that CI runs of different branches sharing a store never meet.
 *
 * @example
 * derivedStage("uploads a file", { ALCHEMY_STAGE: "pr-42" }); // "pr-42-uploads-a-file"
 */
export function derivedStage(testName: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const slug = testName === undefined ? UNNAMED_STAGE : stageSlug(testName);
  return env.ALCHEMY_STAGE ? `${env.ALCHEMY_STAGE}-${slug}` : slug;
}

/** `name` if it fits in `max` characters, else its start, `-` and a hash of `whole`. */
function shorten(name: string, max: number, whole = name): string {
  if (name.length <= max) return name;
  const hash = createHash("sha256").update(whole).digest("hex").slice(0, 8);
  return `${name.slice(0, max - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}
