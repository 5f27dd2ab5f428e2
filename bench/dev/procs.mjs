// Processes and HTTP for `npm run bench:dev` (bench/dev.mjs): a long-running child
// whose output is watched line by line, its process tree (Linux /proc), stopping it
// with a signal and making sure nothing it started is left, polling a URL.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";

/** Absolute wall-clock ms with sub-ms resolution, comparable across processes. */
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every child started and not yet seen to exit, so that an aborted bench can kill them. */
export const live = new Set();

/**
 * Starts `command args` in its own process group (so that whatever it starts can be
 * killed with it if it does not stop by itself). `lines` collects every output line
 * with the time it arrived: { t, stream, text }.
 */
export function startChild(command, args, { cwd, env, name }) {
  const startedAt = now();
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const proc = {
    name,
    child,
    pid: child.pid,
    startedAt,
    lines: [],
    waiters: new Set(),
    exited: undefined,
    lastOutputAt: startedAt,
  };
  live.add(proc);
  for (const stream of ["stdout", "stderr"]) {
    let rest = "";
    child[stream].setEncoding("utf8");
    child[stream].on("data", (chunk) => {
      const t = now();
      proc.lastOutputAt = t;
      const parts = (rest + chunk).split("\n");
      rest = parts.pop();
      for (const text of parts) proc.lines.push({ t, stream, text });
      for (const w of [...proc.waiters]) w();
    });
    child[stream].on("end", () => {
      if (rest) proc.lines.push({ t: now(), stream, text: rest });
      rest = "";
    });
  }
  proc.done = new Promise((resolve) => {
    child.on("error", (error) => {
      proc.exited = { code: null, signal: null, error: error.message, t: now() };
      live.delete(proc);
      for (const w of [...proc.waiters]) w();
      resolve(proc.exited);
    });
    child.on("close", (code, signal) => {
      proc.exited ??= { code, signal, t: now() };
      live.delete(proc);
      for (const w of [...proc.waiters]) w();
      resolve(proc.exited);
    });
  });
  return proc;
}

/** The last `n` output lines, for error messages. */
export const tail = (proc, n = 30) => proc.lines.slice(-n).map((l) => l.text).join("\n");

/**
 * Resolves once `predicate()` is true (checked on every output line and every
 * `pollMs`); rejects after `timeoutMs` or when the process exits first.
 */
export function waitFor(proc, predicate, { timeoutMs, what, pollMs = 20 }) {
  return new Promise((resolve, reject) => {
    let timer;
    let interval;
    const finish = (fn, value) => {
      proc.waiters.delete(check);
      clearTimeout(timer);
      clearInterval(interval);
      fn(value);
    };
    const check = () => {
      let value;
      try {
        value = predicate();
      } catch (error) {
        return finish(reject, error);
      }
      if (value) return finish(resolve, value);
      if (proc.exited) {
        return finish(reject, new Error(`${proc.name} exited (${proc.exited.code ?? proc.exited.signal ?? proc.exited.error}) while waiting for ${what}:\n${tail(proc)}`));
      }
    };
    proc.waiters.add(check);
    timer = setTimeout(() => finish(reject, new Error(`${proc.name}: no ${what} after ${timeoutMs} ms:\n${tail(proc)}`)), timeoutMs);
    interval = setInterval(check, pollMs);
    check();
  });
}

/** Resolves once the process has written nothing for `quietMs`. */
export async function waitQuiet(proc, quietMs, timeoutMs = 30_000) {
  const start = now();
  for (;;) {
    const idle = now() - proc.lastOutputAt;
    if (idle >= quietMs) return;
    if (now() - start > timeoutMs) return;
    await sleep(quietMs - idle + 1);
  }
}

/** pid -> { ppid, comm } of every process (Linux); empty elsewhere. */
function processTable() {
  const table = new Map();
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return table;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      table.set(Number(entry), { ppid: Number(fields[1]), comm, start: fields[19] });
    } catch {}
  }
  return table;
}

/** The descendants of `pid` now: [{ pid, comm, start }]. */
export function descendants(pid) {
  const table = processTable();
  const out = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift();
    for (const [p, info] of table) {
      if (info.ppid === parent) {
        out.push({ pid: p, comm: info.comm, start: info.start });
        queue.push(p);
      }
    }
  }
  return out;
}

/** Those of `procs` ({ pid, start }) still running (the same process: same start time). */
export function stillRunning(procs) {
  const table = processTable();
  return procs.filter((p) => table.get(p.pid)?.start === p.start);
}

/**
 * Stops `proc` with `signal`; after `timeoutMs` kills its process group. Then kills
 * (SIGKILL) any process it had started that is still running 3 s after it exited. Resolves to
 * { code, signal, ms, forced, leftovers: ["workerd (pid)"] }.
 */
export async function stopChild(proc, signal, timeoutMs) {
  if (proc.exited) return { ...proc.exited, ms: 0, forced: false, leftovers: [], alreadyExited: true };
  const tree = descendants(proc.pid);
  const t0 = now();
  try {
    process.kill(proc.pid, signal);
  } catch {}
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    killGroup(proc);
  }, timeoutMs);
  const exited = await proc.done;
  clearTimeout(timer);
  const ms = now() - t0;
  // Its children get a moment to follow it out (esbuild's service process ends when
  // its stdin closes; workerd when Miniflare's control pipe does): up to 3 s.
  let leftovers = stillRunning(tree);
  const lingered = now();
  while (leftovers.length && now() - lingered < 3000) {
    await sleep(50);
    leftovers = stillRunning(tree);
  }
  for (const p of leftovers) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {}
  }
  killGroup(proc); // anything else left in its group
  return { code: exited.code, signal: exited.signal, ms, forced, leftovers: leftovers.map((p) => `${p.comm} (${p.pid})`) };
}

/** SIGKILL to the process group the child leads (it was started detached); silent if it is gone. */
export function killGroup(proc) {
  try {
    process.kill(-proc.pid, "SIGKILL");
  } catch {}
}

/** One GET on a fresh connection: { status, body } or { error }. */
export function get(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
      res.on("error", (error) => resolve({ error: error.code ?? error.message }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (error) => resolve({ error: error.code ?? error.message }));
  });
}

/**
 * GETs `url` every `everyMs` (after the previous answer) until it answers 200 with
 * `body`; resolves to { t: when that answer arrived, polls, last }. Rejects after
 * `timeoutMs`, or when `proc` exits meanwhile.
 */
export async function pollUntil(url, body, { everyMs = 10, timeoutMs, proc, what }) {
  const start = now();
  let polls = 0;
  let last;
  for (;;) {
    last = await get(url);
    polls++;
    const t = now();
    if (last.status === 200 && last.body === body) return { t, polls, last };
    if (proc?.exited) throw new Error(`${proc.name} exited (${proc.exited.code ?? proc.exited.signal}) while waiting for ${what}:\n${tail(proc)}`);
    if (t - start > timeoutMs) {
      throw new Error(`${what}: ${url} did not answer ${JSON.stringify(body)} within ${timeoutMs} ms (last: ${JSON.stringify(last)})${proc ? `\n${tail(proc)}` : ""}`);
    }
    await sleep(everyMs);
  }
}

/** A loopback port free right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
