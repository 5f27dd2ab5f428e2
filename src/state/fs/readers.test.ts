/**
 * Read-only commands against a stage another process holds: they see what
 * the holder acknowledged (in its journal or already in files) and change
 * nothing of the stage, not even its journal or the holder's spare files.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REPO, makeProject, removeProject, runAlchemy } from "../../cli/cli.test-fixture.js";
import type { State } from "../state-store.js";

const TSX = path.join(REPO, "node_modules/tsx/dist/loader.mjs");
const HOLDER = `
  import { FileSystemStateStore } from ${JSON.stringify(path.join(REPO, "src/state/fs/fs-state-store.ts"))};
  const dir = process.argv[1];
  const stage = ["rd", "c"];
  const nested = [...stage, "a"];
  const state = (chain, id, status, v) => ({ status, kind: "test::Thing", id, fqn: [...chain, id].join("/"), seq: v, data: {}, props: { v }, output: { v }, deps: [] });
  const holder = new FileSystemStateStore({ chain: stage }, { dir });
  const inner = new FileSystemStateStore({ chain: nested }, { dir });
  await holder.lock({ holder: { user: "t", host: "h", pid: process.pid, command: "holder" }, leaseMs: 600000, timeoutMs: 0 });
  for (let v = 1; v <= 2; v++) {
    await Promise.all(Array.from({ length: 40 }, (_, i) => holder.set("s" + i, state(stage, "s" + i, "created", v))));
    await Promise.all(Array.from({ length: 40 }, (_, i) => inner.set("n" + i, state(nested, "n" + i, "created", v))));
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  await Promise.all(Array.from({ length: 10 }, (_, i) => inner.delete("n" + i)));
  await new Promise((resolve) => setTimeout(resolve, 150));
  await Promise.all(Array.from({ length: 5 }, (_, i) => holder.set("new" + i, state(stage, "new" + i, "creating", 1))));
  process.stdout.write("ready\\n");
  setInterval(() => {}, 1000);
`;

/** Every entry below `dir`: its inode, size, times and content, so that any change shows. */
function snapshot(dir: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const target = path.join(dir, name);
    const stat = fs.lstatSync(target, { bigint: true });
    const content = stat.isFile() ? createHash("sha256").update(fs.readFileSync(target)).digest("hex") : "dir";
    found[name] = `${stat.ino} ${stat.size} ${stat.mtimeNs} ${stat.ctimeNs} ${stat.nlink} ${content}`;
  }
  return found;
}

describe("a process that does not hold a stage's lock", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("reads what the holder acknowledged and changes nothing of the stage: state list, state export, stages and plan", { timeout: 120_000 }, async () => {
    const project = makeProject({
      "alchemy.run.ts": `
        import alchemy, { Resource } from "alchemy";
        const Thing = Resource("test::Thing", async function (this: any, id: string, props: any) { return { v: props.v }; });
        const app = await alchemy("rd");
        await Thing("s0", { v: 3 });
        await app.finalize();
      `,
    });
    cleanups.push(() => removeProject(project));
    const dir = path.join(project, ".alchemy");
    // The holder: another process that takes the stage's lock, writes settled records (their files follow the
    // journal), a second version of each (recycling their files as spares), creates still "creating" (held back
    // in the journal only) and deletions, then is paused, so that nothing but the readers could change the stage.
    const holder = spawn(process.execPath, ["--conditions", "source", "--import", TSX, "--input-type=module", "-e", HOLDER, dir], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "inherit"],
    });
    cleanups.push(() => holder.kill("SIGKILL"));
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on("data", (chunk: Buffer) => String(chunk).includes("ready") && resolve());
      holder.on("exit", (code) => reject(new Error(`the holder exited with ${code} before it was ready`)));
    });
    holder.kill("SIGSTOP");
    cleanups.push(() => holder.kill("SIGCONT"));
    const stageDir = path.join(dir, "rd", "c");
    expect(fs.statSync(path.join(stageDir, "~journal")).size).toBeGreaterThan(0);
    expect(fs.readdirSync(stageDir).some((name) => name.includes("~tmp-spare"))).toBe(true);
    expect(fs.readdirSync(stageDir).filter((name) => name.startsWith("new"))).toEqual([]); // only in the journal
    const before = snapshot(stageDir);

    const list = await runAlchemy(["state", "list", "-s", "c", "--app", "rd", "--json"], project);
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as Array<{ fqn: string; status: string }>;
    expect(listed.map((r) => r.fqn).sort()).toEqual(
      [
        ...Array.from({ length: 40 }, (_, i) => `rd/c/s${i}`),
        ...Array.from({ length: 5 }, (_, i) => `rd/c/new${i}`),
        ...Array.from({ length: 30 }, (_, i) => `rd/c/a/n${i + 10}`),
      ].sort(),
    );
    expect(listed.filter((r) => r.status === "creating")).toHaveLength(5);

    const exported = await runAlchemy(["state", "export", "-s", "c", "--app", "rd"], project);
    expect(exported.code, exported.stderr).toBe(0);
    const records = (JSON.parse(exported.stdout) as { records: Array<{ state: State }> }).records;
    expect(records).toHaveLength(75);
    expect(records.filter((r) => r.state.id.startsWith("s")).every((r) => (r.state.props as { v: number }).v === 2)).toBe(true);

    const stages = await runAlchemy(["stages", "--app", "rd", "--json"], project);
    expect(stages.code, stages.stderr).toBe(0);
    expect(stages.stdout).toContain('"c"');

    // --allow-deletes: the program declares few of the stage's records, which the mass-deletion guard would stop.
    const plan = await runAlchemy(["plan", "-s", "c", "--allow-deletes"], project);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/to delete/);

    expect(snapshot(stageDir)).toEqual(before);
  });
});
