// What a benchmark's results record about where they were measured: Node, OS,
// CPUs, memory, load, and the commit (marked when src/ or bench/ had
// uncommitted changes). Shared by `npm run bench` and `npm run bench:dev`.
import { execFileSync } from "node:child_process";
import os from "node:os";

/** The machine and commit of a run in the repository at `root`. */
export function machine(root) {
  const cpus = os.cpus();
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "bench"], { cwd: root, encoding: "utf8" }).trim();
    if (dirty) commit += " (+ uncommitted changes in src/ or bench/)";
  } catch {}
  let uptime;
  try {
    uptime = execFileSync("uptime", { encoding: "utf8" }).trim();
  } catch {}
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: `${cpus[0]?.model ?? "?"} × ${cpus.length}`,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    tmpdir: os.tmpdir(),
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(" "),
    uptime,
    commit,
  };
}
