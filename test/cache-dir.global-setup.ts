/**
 * The suite's record cache (`src/state/objects/record-cache.ts`) lives in a
 * temporary directory of its own, removed after the run, rather than in the
 * user's `~/.cache/alchemy`. Test files and the processes they start find it
 * in `ALCHEMY_CACHE_DIR`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), "alchemy-test-cache-"));
  process.env.ALCHEMY_CACHE_DIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
