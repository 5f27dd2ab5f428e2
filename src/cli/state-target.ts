/**
 * What a state command works on, checked before any store opens: the state
 * directory, the stage, or one resource named by its fqn. A name that cannot
 * be a path segment of the state layout is a usage error (exit 2).
 *
 * @module
 */
import path from "node:path";
import { nameProblem, type NameKind } from "../core/names.js";
import { UsageError } from "./exit-codes.js";
import type { CliIO } from "./io.js";
import { redactConnectionString } from "../state/postgres/connection-string.js";
import { parseStoreUrl, type StoreLocation } from "../state/store-url.js";

/**
 * The absolute state directory of the filesystem store: `--state`, resolved
 * against the command's working directory.
 *
 * @example
 * stateDirOf({ state: ".alchemy" }, io); // "/home/me/project/.alchemy"
 */
export function stateDirOf(opts: { state: string }, io: Pick<CliIO, "cwd">): string {
  return path.resolve(io.cwd, opts.state);
}

/**
 * The store `--state` names: a directory of the filesystem store (the default,
 * `.alchemy`), or a store URL (`file:`, `sqlite:`, `postgres://`).
 *
 * @throws UsageError for a URL no store understands.
 * @example
 * stateLocationOf({ state: "sqlite:.alchemy/state.sqlite" }, io); // { kind: "sqlite", filename: "/home/me/project/.alchemy/state.sqlite" }
 */
export function stateLocationOf(opts: { state: string; stateFrom?: string; profile?: string }, io: Pick<CliIO, "cwd">): StoreLocation {
  try {
    return parseStoreUrl(opts.state, io.cwd, opts.profile);
  } catch (error) {
    const from = opts.stateFrom ?? "--state";
    throw new UsageError(`${from === "--state" ? "--state" : `${from} (${redactConnectionString(opts.state)})`}: ${(error as Error).message}`);
  }
}

/**
 * The stage a command works on: `--stage`, else `$ALCHEMY_STAGE`, else
 * `$USER`, else `dev` (the engine's default).
 *
 * @throws UsageError when the stage is not a valid name, saying where it came from.
 * @example
 * resolveStage(undefined, { USER: "ada" }); // "ada"
 */
export function resolveStage(stage: string | undefined, env: NodeJS.ProcessEnv): string {
  if (stage !== undefined) return checkName(stage, "stage", "--stage");
  if (env.ALCHEMY_STAGE !== undefined) return checkName(env.ALCHEMY_STAGE, "stage", "$ALCHEMY_STAGE", "--stage <stage>");
  if (env.USER !== undefined) return checkName(env.USER, "stage", "$USER", "--stage <stage>");
  return "dev";
}

/**
 * `name` when it is a valid application, stage or scope name.
 *
 * @param from where the name came from, e.g. `--app` or `$USER`
 * @param fix the flag to suggest when the name did not come from one
 * @throws UsageError naming the value, its origin and what is wrong with it.
 * @example
 * checkName("shop", "application", "--app"); // "shop"
 */
export function checkName(name: string, kind: NameKind, from: string, fix = from): string {
  const problem = nameProblem(name);
  if (problem === undefined) return name;
  throw new UsageError(
    `${kind} ${JSON.stringify(name)} (from ${from}) is not a valid name: it ${problem}. ` +
      `Names use letters, digits, "-", "_" and "." only; pass ${fix === from ? `a valid ${from}` : fix}.`,
  );
}

/** A resource named by its fqn: `app/stage/<nested...>/id`. */
export interface ResourceAddress {
  /** The fqn as given. */
  fqn: string;
  app: string;
  stage: string;
  /** Chain of the scope that holds the record: app, stage, then nested scopes. */
  scope: string[];
  /** The record's id in that scope. */
  id: string;
}

/**
 * Splits and checks an fqn given on the command line.
 *
 * @throws UsageError when it has fewer than three segments or a segment is not a valid name.
 * @example
 * parseFqn("shop/dev/backend/db"); // { app: "shop", stage: "dev", scope: ["shop", "dev", "backend"], id: "db", ... }
 */
export function parseFqn(fqn: string): ResourceAddress {
  const segments = fqn.split("/");
  if (segments.length < 3) {
    throw new UsageError(
      `${JSON.stringify(fqn)} is not a resource fqn: expected app/stage/<nested scopes...>/id, e.g. "my-app/dev/backend/db". ` +
        `Run \`alchemy state list\` to see the recorded fqns.`,
    );
  }
  const kinds: NameKind[] = ["application", "stage"];
  segments.forEach((segment, i) => {
    const kind = i === segments.length - 1 ? "resource id" : (kinds[i] ?? "scope");
    const problem = nameProblem(segment);
    if (problem !== undefined) {
      throw new UsageError(
        `${JSON.stringify(fqn)} is not a resource fqn: its ${kind} segment ${JSON.stringify(segment)} ${problem}. ` +
          `Expected app/stage/<nested scopes...>/id with letters, digits, "-", "_" and "." in each segment.`,
      );
    }
  });
  return { fqn, app: segments[0]!, stage: segments[1]!, scope: segments.slice(0, -1), id: segments[segments.length - 1]! };
}
