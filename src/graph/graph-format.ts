/**
 * The formats `alchemy graph` writes, and the one a file name implies. Kept
 * apart from the renderers so that the command line can list them without
 * loading the layout library.
 *
 * @module
 */

/** The formats `alchemy graph --format` accepts. */
export const GRAPH_FORMATS = ["svg", "dot", "mermaid", "json"] as const;

/** One of {@link GRAPH_FORMATS}. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

const BY_EXTENSION: Record<string, GraphFormat> = { svg: "svg", dot: "dot", gv: "dot", mmd: "mermaid", mermaid: "mermaid", json: "json" };

/**
 * The format a file name implies: `.svg`, `.dot`/`.gv`, `.mmd`/`.mermaid`,
 * `.json`; undefined for any other.
 *
 * @example
 * formatOfFile("docs/stage.svg"); // "svg"
 * formatOfFile("stage.txt"); // undefined
 */
export function formatOfFile(file: string): GraphFormat | undefined {
  const ext = /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase();
  return ext === undefined ? undefined : BY_EXTENSION[ext];
}
