/**
 * The state stress run: deploys of one stage (cold, update all, orphan
 * delete, destroy) racing with readers in other processes (`state list`,
 * `state export`, `plan`, `stages`), a second deploy of the same stage, and
 * SIGKILL or SIGSTOP/SIGCONT of the deployer at random points, on any store.
 * After every round it checks what a user must be able to trust:
 *
 * - every record is readable, and (filesystem store) each record file holds
 *   the id of its name and the fqn of its place, and no two share an inode;
 * - the records, and the world the resources made (one file each), are
 *   exactly what the last successful deploy was asked for;
 * - no reader failed, and no deploy failed except the loser of a lock race
 *   (its message naming the holder), a killed one, and a paused one whose
 *   stage was taken over meanwhile (its message saying it lost the lock);
 * and after a final destroy, nothing is left: no record, no world file.
 *
 * Used by `stress.test.ts` (a few rounds per store) and `bench/stress.mjs`
 * (`npm run stress`, the long run). Seeded: a failure names the seed that
 * reproduces the round order and timings' choices.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runnerEnv } from "../child-env.test-fixture.js";

const REPO = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const APP = "stress";
const STAGE = "st";
const SCOPES = ["s", "a", "b"] as const;
/**
 * The lease of every deploy: a paused deployer is taken over after it. Short,
 * so that a pause round does not take long, but a deploy on a machine so
 * loaded that it cannot heartbeat within it rightly stops (LockLostError),
 * which this run would count as a failure: 5 s leaves room for a busy CI.
 */
const LEASE_MS = 5_000;

/** Options of {@link runStress}. */
export interface StressOptions {
  /** Where state lives, as a store URL relative to the project: `file:.alchemy`, `sqlite:state.sqlite`, `postgres://...?schema=...`. */
  store: string;
  rounds: number;
  /** Resources the program declares (a third at stage level, a third in each of two nested scopes). */
  resources: number;
  seed: number;
  /**
   * The disruption of each round, in order, instead of random ones (a short
   * run covers each kind); rounds beyond it are random.
   */
  disruptions?: Disruption[];
  /** How the CLI runs: from the TypeScript sources (tests) or the build in dist/ (faster). */
  cli: "source" | "dist";
  /** Each round and check, as it happens. */
  log?: (line: string) => void;
}

/** What a stress run did and found. */
export interface StressReport {
  store: string;
  seed: number;
  rounds: number;
  deploys: number;
  kills: number;
  pauses: number;
  takeovers: number;
  /** Takeovers that found the SQLite file still locked by the paused deploy's write transaction (and failed, saying so). */
  blockedByPausedWrite: number;
  lockRaceLosers: number;
  reads: Record<string, number>;
  /** Commands that failed when they must not have, with their output. */
  failures: string[];
  /** Checks that did not hold after a round. */
  violations: string[];
  elapsedMs: number;
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

interface Started {
  child: ChildProcess;
  done: Promise<Result>;
}

type Op = "cold" | "update" | "orphan" | "destroy";
/** What happens to a round's deploy: nothing, a second deploy of the stage, a SIGKILL, or a SIGSTOP past its lease while another run takes over. */
export type Disruption = "none" | "second" | "kill" | "pause";

/** A small seeded generator (mulberry32), so that a run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const PROGRAM = `
import fs from "node:fs";
import path from "node:path";
import alchemy, { Resource } from "alchemy";

const world = process.env.STRESS_WORLD!;
// One byte per handler that ran: how far a deploy got, for the harness to strike at a random point.
const progress = () => fs.appendFileSync(process.env.STRESS_PROGRESS!, ".");
const Thing = Resource("stress::Thing", async function (this: any, id: string, props: { v: number; scope: string }) {
  if (this.phase === "delete") {
    fs.rmSync(path.join(world, this.props.scope + "--" + id), { force: true });
    progress();
    return this.destroy();
  }
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
  fs.writeFileSync(path.join(world, props.scope + "--" + id), String(props.v));
  progress();
  return { v: props.v };
});
// A second deploy is started early and held here, then let go at the moment the harness picks.
if (process.env.STRESS_GATE) while (!fs.existsSync(process.env.STRESS_GATE)) await new Promise((resolve) => setTimeout(resolve, 2));
// allowDeletes: a round after a killed destroy may hold few records, and dropping some of them is no mistake here.
const app = await alchemy("${APP}", { lockLeaseMs: ${LEASE_MS}, allowDeletes: true });
const v = Number(process.env.STRESS_VERSION);
const perScope = Number(process.env.STRESS_PER_SCOPE);
const dropped = new Set((process.env.STRESS_DROP ?? "").split(",").filter(Boolean));
const declare = (scope: string) =>
  Promise.all(Array.from({ length: perScope }, (_, i) => scope + i).filter((id) => !dropped.has(id)).map((id) => Thing(id, { v, scope })));
await Promise.all([declare("s"), alchemy.run("a", () => declare("a")), alchemy.run("b", () => declare("b"))]);
await app.finalize();
`;

/**
 * Runs the stress rounds and returns what happened; never throws for a
 * failed check (see `violations` and `failures`).
 *
 * @example
 * const report = await runStress({ store: "file:.alchemy", rounds: 6, resources: 60, seed: 1, cli: "source" });
 * expect(report.violations).toEqual([]);
 */
export async function runStress(options: StressOptions): Promise<StressReport> {
  const started = performance.now();
  const rand = random(options.seed);
  const log = options.log ?? (() => undefined);
  const perScope = Math.max(1, Math.floor(options.resources / SCOPES.length));
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-stress-"));
  const world = path.join(project, "world");
  const progressFile = path.join(project, "progress");
  fs.mkdirSync(world);
  fs.mkdirSync(path.join(project, "node_modules"));
  fs.symlinkSync(REPO, path.join(project, "node_modules", "alchemy"), "dir");
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "stress", private: true, type: "module" }));
  fs.writeFileSync(path.join(project, "alchemy.run.ts"), PROGRAM);
  const storeUrl = options.store;
  const onFiles = storeUrl.startsWith("file:");
  /** A deploy refused because a paused process holds the SQLite file's write lock: the documented limit, said as such, nothing changed. */
  const pausedInWrite = (result: Result) =>
    storeUrl.startsWith("sqlite:") && result.code === 1 && /database is locked\. Another process kept the database locked/.test(result.out) && /Nothing was changed/.test(result.out);
  const report: StressReport = {
    store: onFiles ? "filesystem" : storeUrl.startsWith("sqlite:") ? "SQLite" : "PostgreSQL",
    seed: options.seed,
    rounds: 0,
    deploys: 0,
    kills: 0,
    pauses: 0,
    takeovers: 0,
    blockedByPausedWrite: 0,
    lockRaceLosers: 0,
    reads: {},
    failures: [],
    violations: [],
    elapsedMs: 0,
  };

  /** The version and dropped ids the program is run with; what a successful deploy leaves. */
  let version = 0;
  let dropped: string[] = [];
  let expected = new Map<string, number>();

  /** Resolves once `count` more handlers ran since `from` (or the deploy ended). */
  const progressed = async (from: number, count: number, deployer: Started) => {
    let ended = false;
    void deployer.done.then(() => (ended = true));
    while (!ended && progressOf() - from < count) await sleep(3);
  };
  const progressOf = () => fs.statSync(progressFile, { throwIfNoEntry: false })?.size ?? 0;

  const start = (args: string[], env: Record<string, string> = {}): Started => {
    const entry = options.cli === "dist" ? [path.join(REPO, "dist/cli/main.js")] : ["--conditions", "source", "--import", path.join(REPO, "node_modules/tsx/dist/loader.mjs"), path.join(REPO, "src/cli/main.ts")];
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: project,
      env: {
        ...runnerEnv(),
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        USER: "stress",
        ALCHEMY_STATE_STORE: storeUrl,
        STRESS_WORLD: world,
        STRESS_PROGRESS: progressFile,
        STRESS_VERSION: String(version),
        STRESS_PER_SCOPE: String(perScope),
        STRESS_DROP: dropped.join(","),
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const done = new Promise<Result>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, out })));
    return { child, done };
  };
  const run = (args: string[], env?: Record<string, string>) => start(args, env).done;
  const fail = (what: string, result: Result) => report.failures.push(`round ${report.rounds} (seed ${options.seed}): ${what} exited ${result.code ?? result.signal}:\n${result.out.slice(-2_000)}`);
  const deploy = (op: Op) => (op === "destroy" ? ["destroy", "-s", STAGE, "--force", "-q"] : ["deploy", "-s", STAGE, "-q"]);

  /** Readers in a loop, each in its own process, until `stop()` says so. */
  const readers = (stop: () => boolean) => {
    const kinds: Array<[string, string[]]> = [
      ["state list", ["state", "list", "-s", STAGE, "--app", APP, "--json"]],
      ["state export", ["state", "export", "-s", STAGE, "--app", APP]],
      ["plan", ["plan", "-s", STAGE]],
      ["stages", ["stages", "--app", APP, "--json"]],
    ];
    return Promise.all(
      kinds.map(async ([kind, args]) => {
        while (!stop()) {
          const result = await run(args);
          report.reads[kind] = (report.reads[kind] ?? 0) + 1;
          if (result.code !== 0) fail(kind, result);
        }
      }),
    );
  };

  try {
    for (let round = 1; round <= options.rounds; round++) {
      report.rounds = round;
      const op: Op = expected.size === 0 ? "cold" : round % 6 === 0 ? "destroy" : rand() < 0.35 ? "orphan" : "update";
      const roll = rand();
      const disruption: Disruption = options.disruptions?.[round - 1] ?? (roll < 0.3 ? "none" : roll < 0.5 ? "second" : roll < 0.75 ? "kill" : "pause");
      version++;
      dropped = op === "orphan" ? SCOPES.flatMap((s) => Array.from({ length: perScope }, (_, i) => `${s}${i}`)).filter(() => rand() < 0.15) : [];
      const target = op === "destroy" ? new Map<string, number>() : declaredBy(perScope, dropped, version);
      log(`round ${round}: ${op}, ${disruption}`);

      let roundOver = false;
      const reading = readers(() => roundOver);
      const from = progressOf();
      // Where the disruption strikes: after a random number of the handlers this deploy runs (0: at its start).
      const work = op === "destroy" ? expected.size : target.size;
      const strikeAt = Math.floor(rand() * Math.max(1, work));
      const first = start(deploy(op));
      report.deploys++;
      let succeeded = false;
      if (disruption === "second") {
        // Loaded already, it asks for the lock the moment it is let go: while the first holds it, or once it is done.
        const gate = path.join(project, `gate-${round}`);
        const second = start(deploy(op), { STRESS_GATE: gate });
        await progressed(from, strikeAt, first);
        fs.writeFileSync(gate, "");
        report.deploys++;
        const [a, b] = await Promise.all([first.done, second.done]);
        for (const [name, result] of [["first deploy", a], ["second deploy", b]] as const) {
          if (result.code === 0) succeeded = true;
          else if (result.code === 1 && /is locked by another process: \S+@\S+ pid \d+ \(alchemy (deploy|destroy)/.test(result.out)) report.lockRaceLosers++;
          // A destroy that comes second, once the other one is done, finds nothing left and says so.
          else if (op === "destroy" && result.code === 1 && /has no state, so there is nothing to destroy/.test(result.out)) succeeded = true;
          else fail(name, result);
        }
        if (a.code !== 0 && b.code !== 0) report.violations.push(`round ${round}: both deploys of the lock race failed`);
        log(`  the two deploys exited ${a.code} and ${b.code}`);
      } else if (disruption === "kill" || disruption === "pause") {
        await progressed(from, strikeAt, first);
        if (disruption === "kill") {
          first.child.kill("SIGKILL");
          report.kills++;
          const result = await first.done;
          if (result.code === 0) succeeded = true;
          else if (result.signal !== "SIGKILL") fail("killed deploy", result);
        } else {
          first.child.kill("SIGSTOP");
          report.pauses++;
          await sleep(LEASE_MS + 500);
          const taker = await run(deploy(op));
          report.deploys++;
          if (taker.code !== 0) {
            // SQLite has no server to end a paused process's write transaction: a deploy that
            // finds the file locked by it must fail, saying so, and change nothing.
            if (pausedInWrite(taker)) report.blockedByPausedWrite++;
            else fail("deploy taking over from a paused one", taker);
          } else {
            succeeded = true;
            if (/Took over a stale lock/.test(taker.out)) report.takeovers++;
          }
          first.child.kill("SIGCONT");
          const resumed = await first.done;
          // It may have finished before the pause; otherwise it must stop, saying why, once its stage was taken.
          if (resumed.code === 0) succeeded = true;
          else if (!(resumed.code === 1 && /Lost the lock/.test(resumed.out))) fail("paused deploy, resumed", resumed);
        }
      } else {
        const result = await first.done;
        if (result.code === 0) succeeded = true;
        else fail("deploy", result);
      }
      if (!succeeded) {
        // Killed before it finished: the next run resumes, and must bring the stage to what was asked.
        const again = await run(deploy(op));
        report.deploys++;
        if (again.code === 0) succeeded = true;
        else fail("deploy after a killed one", again);
      }
      roundOver = true;
      await reading;
      if (succeeded) expected = target;
      await check(`round ${round} (${op}, ${disruption})`);
    }
    // The end: nothing may be left.
    const destroyed = await run(["destroy", "-s", STAGE, "--force", "-q"]);
    if (destroyed.code !== 0 && !/has no state/.test(destroyed.out)) fail("final destroy", destroyed);
    expected = new Map();
    await check("after the final destroy");
    if (onFiles && fs.existsSync(path.join(project, storeUrl.slice("file:".length), APP, STAGE))) {
      const left = fs.readdirSync(path.join(project, storeUrl.slice("file:".length), APP, STAGE));
      if (left.length > 0) report.violations.push(`after the final destroy, the stage directory still holds ${left.join(", ")}`);
    }
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
    report.elapsedMs = performance.now() - started;
  }
  return report;

  async function check(when: string): Promise<void> {
    const problems: string[] = [];
    const exported = await run(["state", "export", "-s", STAGE, "--app", APP]);
    if (exported.code !== 0) {
      report.violations.push(`${when}: the state cannot be read: ${exported.out.slice(-1_000)}`);
      return;
    }
    const records = (JSON.parse(exported.out) as { records: Array<{ state: { fqn: string; status: string; props: { v: number }; output?: { v: number } } }> }).records.map((r) => r.state);
    const found = new Map(records.map((r) => [r.fqn, r]));
    for (const [fqn, v] of expected) {
      const record = found.get(fqn);
      if (!record) problems.push(`${fqn} is missing`);
      else if (record.status !== "created" && record.status !== "updated") problems.push(`${fqn} is "${record.status}"`);
      else if (record.props.v !== v || record.output?.v !== v) problems.push(`${fqn} holds v ${record.props.v}/${record.output?.v}, not ${v}`);
    }
    for (const fqn of found.keys()) if (!expected.has(fqn)) problems.push(`${fqn} is recorded but was not deployed`);
    const worldFiles = new Map(fs.readdirSync(world).map((name) => [name, Number(fs.readFileSync(path.join(world, name), "utf8"))]));
    for (const [fqn, v] of expected) {
      const name = worldName(fqn);
      if (worldFiles.get(name) !== v) problems.push(`world file ${name} holds ${worldFiles.get(name)}, not ${v}`);
      worldFiles.delete(name);
    }
    for (const name of worldFiles.keys()) problems.push(`world file ${name} was left behind`);
    if (onFiles) problems.push(...checkRecordFiles(path.join(project, storeUrl.slice("file:".length), APP, STAGE)));
    if (problems.length > 0) report.violations.push(`${when} (seed ${options.seed}): ${problems.slice(0, 10).join("; ")}${problems.length > 10 ? `; and ${problems.length - 10} more` : ""}`);
    options.log?.(`  ${when}: ${expected.size} records, ${problems.length === 0 ? "all checks hold" : `${problems.length} problem(s)`}`);
  }
}

/** fqn -> version of everything a deploy of `version` declares. */
function declaredBy(perScope: number, dropped: string[], version: number): Map<string, number> {
  const declared = new Map<string, number>();
  const skip = new Set(dropped);
  for (const scope of SCOPES) {
    for (let i = 0; i < perScope; i++) {
      const id = `${scope}${i}`;
      if (!skip.has(id)) declared.set(scope === "s" ? `${APP}/${STAGE}/${id}` : `${APP}/${STAGE}/${scope}/${id}`, version);
    }
  }
  return declared;
}

function worldName(fqn: string): string {
  const parts = fqn.split("/").slice(2);
  return parts.length === 1 ? `s--${parts[0]}` : `${parts[0]}--${parts[1]}`;
}

/** Every record file below `stageDir` parses, holds the id of its name and the fqn of its place, and has an inode of its own. */
function checkRecordFiles(stageDir: string): string[] {
  const problems: string[] = [];
  const inodes = new Map<bigint, string>();
  if (!fs.existsSync(stageDir)) return problems;
  for (const name of fs.readdirSync(stageDir, { recursive: true }) as string[]) {
    if (!name.endsWith(".json") || path.basename(name).startsWith("~")) continue;
    const file = path.join(stageDir, name);
    const stat = fs.lstatSync(file, { bigint: true });
    if (!stat.isFile()) continue;
    const other = inodes.get(stat.ino);
    if (other !== undefined) problems.push(`${name} and ${other} share inode ${stat.ino}`);
    inodes.set(stat.ino, name);
    if (stat.nlink !== 1n) problems.push(`${name} has ${stat.nlink} links`);
    try {
      const record = JSON.parse(fs.readFileSync(file, "utf8")) as { id: string; fqn: string };
      const id = path.basename(name, ".json");
      const fqn = [APP, STAGE, ...path.dirname(name).split(path.sep).filter((p) => p !== "."), id].join("/");
      if (record.id !== id) problems.push(`${name} holds id ${record.id}`);
      if (record.fqn !== fqn) problems.push(`${name} holds fqn ${record.fqn}`);
    } catch (error) {
      problems.push(`${name} does not parse: ${(error as Error).message}`);
    }
  }
  return problems;
}
