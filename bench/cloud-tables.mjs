// The tables of ours on the cloud stores' emulators: time per phase next to
// ours on the filesystem store in the same run, and the requests that reached
// the emulator in each phase (medians over the runs).
import { fmtMB, fmtMs, fmtN, fmtX } from "./format.mjs";

/** Stores run against a local emulator, whose requests are counted. */
export const CLOUD_STORES = ["s3", "dynamodb"];

/** The S3 runs' extra phase: a no-op redeploy right after the first, with an empty record cache. */
export const EMPTY_CACHE_PHASE = "no-op redeploy, empty cache";

const PHASES = ["cold deploy", "no-op redeploy", EMPTY_CACHE_PHASE, "update all", "orphan-delete half", "destroy sequential", "destroy parallel"];

/** The request columns of each store, in order; whatever else was counted goes to "other". */
const COLUMNS = {
  s3: ["GET", "PUT", "DELETE", "LIST"],
  dynamodb: ["GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"],
};
const TITLE = { s3: "S3 store against s3rver", dynamodb: "DynamoDB store against dynalite" };
const SHORT = { s3: "S3", dynamodb: "DynamoDB" };

/**
 * @param store "s3" | "dynamodb"
 * @param ours  medians of ours on `store` by phase (summarize() in run.mjs)
 * @param fs    medians of ours on the filesystem store in the same run, if it ran
 */
export function cloudTable(store, n, ours = {}, fs) {
  const columns = COLUMNS[store];
  const phases = PHASES.filter((ph) => ours[ph] !== undefined);
  const counted = new Set(phases.flatMap((ph) => Object.keys(ours[ph].requests ?? {})));
  const others = [...counted].filter((op) => !columns.includes(op)).sort();
  const lines = [`### N = ${fmtN(n)}, ${TITLE[store]} (ours only)`, ""];
  const fsCols = fs ? ` ours filesystem (ms) | ${SHORT[store]} / filesystem |` : "";
  lines.push(`| phase | ours ${SHORT[store]} (ms) | wall (ms) | peak RSS (MB) |${fsCols} requests | ${columns.join(" | ")} | other |`);
  lines.push(`|---|---:|---:|---:|${fs ? "---:|---:|" : ""}---:|${columns.map(() => "---:|").join("")}---|`);
  for (const ph of phases) {
    const a = ours[ph];
    const r = a.requests ?? {};
    const other = others.filter((op) => r[op]).map((op) => `${op} ${fmtN(r[op])}`).join(", ") || "0";
    // The empty-cache no-op compares with the filesystem store's no-op.
    const f = fs?.[ph === EMPTY_CACHE_PHASE ? "no-op redeploy" : ph];
    const fsText = fs ? ` ${fmtMs(f?.ms)} | ${fmtX(f ? a.ms / f.ms : undefined)} |` : "";
    const total = Object.values(r).reduce((sum, k) => sum + k, 0);
    lines.push(`| ${ph} | ${fmtMs(a.ms)} | ${fmtMs(a.wallMs)} | ${fmtMB(a.maxRssMB)} |${fsText} ${fmtN(total)} | ${columns.map((op) => fmtN(r[op] ?? 0)).join(" | ")} | ${other} |`);
  }
  lines.push("");
  if (fs && phases.includes(EMPTY_CACHE_PHASE)) lines.push(`(*${EMPTY_CACHE_PHASE}* is compared with the filesystem store's no-op redeploy.)`, "");
  return lines;
}
