/**
 * `alchemy graph`: a stage's resources and dependencies, grouped by scope, as
 * SVG, Graphviz DOT, Mermaid or JSON, for docs and CI artifacts. It reads the
 * stage through its store, as `alchemy state list` does (so a journal's
 * acknowledged changes are seen), and never writes to it: no lock is taken and
 * nothing is created, not even for a stage that does not exist.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { buildStageGraph, formatOfFile, renderGraph, type GraphFormat } from "../../graph/index.js";
import { describeLocation } from "../../state/store-url.js";
import { EXIT, runCommandBody } from "../exit-codes.js";
import type { CliIO } from "../io.js";
import { checkStageAccess, profileAccess } from "../stage-profile-check.js";
import { resolveApp, StateCommandError, withStateSession } from "../state-access.js";
import { resolveStage, stateLocationOf } from "../state-target.js";
import { compare } from "./stages.js";
import type { StateCommandOptions } from "./state.js";

/** Options of `alchemy graph`. */
export interface GraphCommandOptions extends StateCommandOptions {
  /**
   * The stage to draw.
   * @default $ALCHEMY_STAGE, else $USER, else "dev"
   */
  stage?: string;
  /**
   * The format to print or write.
   * @default the one `output`'s extension names (.svg, .dot/.gv, .mmd/.mermaid, .json), else "dot"
   */
  format?: GraphFormat;
  /**
   * A file to write the graph to, relative to the working directory.
   * @default stdout
   */
  output?: string;
}

/**
 * `alchemy graph`: renders the stage's graph. A dependency naming no record
 * (forgotten with `state rm`, or in another stage) is drawn dashed, to a
 * dashed `(no record)` placeholder, and reported on stderr.
 *
 * @example
 * await graphCommand({ state: ".alchemy", stage: "dev", format: "svg", output: "stage.svg" }, processIO());
 * // stderr: Wrote the graph of shop/dev (6 resources, 4 dependencies) to stage.svg.
 */
export async function graphCommand(opts: GraphCommandOptions, io: CliIO): Promise<number> {
  return runCommandBody(io, async () => {
    const where = stateLocationOf(opts, io);
    const stage = resolveStage(opts.stage, io.env);
    const app = resolveApp(where, opts.app);
    const format = opts.format ?? (opts.output === undefined ? undefined : formatOfFile(opts.output)) ?? "dot";
    await checkStageAccess(where, app, stage, profileAccess(opts, io));
    const { scopes, stages } = await withStateSession(where, async (session) => {
      const scopes = await session.walk([app, stage]);
      const empty = scopes.every((s) => s.records.length === 0);
      return { scopes, stages: empty ? (await (await session.open([app])).listScopes()).sort(compare) : [] };
    }, io.stderr);
    const graph = buildStageGraph(app, stage, scopes);
    if (graph.nodes.length === 0) {
      const others = stages.filter((s) => s !== stage);
      const hint = others.length > 0 ? `Stages with records: ${others.join(", ")}; choose one with --stage <stage>.` : `Deploy it first, or check --state and --app.`;
      throw new StateCommandError(`Stage "${stage}" of application "${app}" has no records in ${describeLocation(where)}, so there is no graph to draw. ${hint}`);
    }
    for (const edge of graph.edges.filter((e) => e.missing)) {
      io.stderr.write(`! ${edge.from} depends on ${edge.to}, which has no record in stage ${app}/${stage} (drawn dashed).\n`);
    }
    const text = renderGraph(graph, format);
    if (opts.output === undefined) {
      io.stdout.write(text);
      return EXIT.ok;
    }
    const file = path.resolve(io.cwd, opts.output);
    try {
      writeFileSync(file, text);
    } catch (error) {
      throw new StateCommandError(`Cannot write the graph to ${file}: ${(error as Error).message}. Check that its directory exists and is writable.`, { cause: error });
    }
    const deps = graph.edges.length;
    io.stderr.write(`Wrote the ${format} graph of ${app}/${stage} (${plural(graph.nodes.length, "resource")}, ${plural(deps, "dependency", "dependencies")}) to ${opts.output}.\n`);
    return EXIT.ok;
  });
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
