// `BENCH_DEV_TRACE=1 npm run bench:dev`: loaded into `alchemy dev` with
// `node --import`, records when Miniflare and esbuild are loaded and how long their
// calls take, one JSON line per event in $BENCH_DEV_TRACE_FILE (outside the project,
// so that writing it does not look like an edit to dev's watcher):
//   { t, ev: "start" }                     the preload runs (t: absolute ms)
//   { t, ev: "process", origin }           performance.timeOrigin (process start)
//   { t, ev: "load", mod, ms }             miniflare / esbuild main module evaluated (ms: its require time)
//   { t, ev: "esbuild.build", ms, entry }  one bundle
//   { t, ev: "esbuild.context", ms }       a watching build started
//   { t, ev: "miniflare.ready", ms }       a new Miniflare up (ms from the first `ready` access)
//   { t, ev: "miniflare.setOptions", ms, workers }
//   { t, ev: "miniflare.dispose", ms }
// `t` is when the call ended. Nothing is changed but the timing wrappers; the numbers the
// bench reports without BENCH_DEV_TRACE are taken without this preload.
import { appendFileSync } from "node:fs";
import Module from "node:module";

const FILE = process.env.BENCH_DEV_TRACE_FILE;
const now = () => performance.timeOrigin + performance.now();
const emit = (event) => {
  if (FILE) appendFileSync(FILE, JSON.stringify({ t: now(), ...event }) + "\n");
};
emit({ ev: "process", origin: performance.timeOrigin });
emit({ ev: "start" });

const timed = (name, fn, extra = () => ({})) =>
  async function (...args) {
    const t0 = now();
    try {
      return await fn.apply(this, args);
    } finally {
      emit({ ev: name, ms: now() - t0, ...extra(args) });
    }
  };

function patchMiniflare(exports, _module) {
  const proto = exports.Miniflare?.prototype;
  if (!proto || proto.__benchTraced) return;
  proto.__benchTraced = true;
  proto.setOptions = timed("miniflare.setOptions", proto.setOptions, ([o]) => ({ workers: o?.workers?.length }));
  proto.dispose = timed("miniflare.dispose", proto.dispose);
  const ready = Object.getOwnPropertyDescriptor(proto, "ready");
  if (ready?.get) {
    const seen = new WeakSet();
    Object.defineProperty(proto, "ready", {
      ...ready,
      get() {
        const promise = ready.get.call(this);
        if (!seen.has(this)) {
          seen.add(this);
          const t0 = now();
          promise.then(
            () => emit({ ev: "miniflare.ready", ms: now() - t0 }),
            () => emit({ ev: "miniflare.ready", ms: now() - t0, failed: true }),
          );
        }
        return promise;
      },
    });
  }
}

/** esbuild's exports are getters that cannot be redefined: its module gets a copy with the two wrapped. */
function patchEsbuild(exports, module) {
  module.exports = {
    ...exports,
    build: timed("esbuild.build", exports.build, ([o]) => ({ entry: o?.entryPoints?.[0] })),
    context: timed("esbuild.context", exports.context, ([o]) => ({ entry: o?.entryPoints?.[0] })),
  };
}

// Both are CommonJS packages: catch their main module as it is evaluated (an ESM
// `import("miniflare")` goes through the CommonJS loader too) and patch its exports
// before the ESM namespace copies them.
const TARGETS = [
  { mod: "miniflare", re: /[\\/]node_modules[\\/]miniflare[\\/]dist[\\/]src[\\/]index\.js$/, patch: patchMiniflare },
  { mod: "esbuild", re: /[\\/]node_modules[\\/]esbuild[\\/]lib[\\/]main\.js$/, patch: patchEsbuild },
];
const original = Module._extensions[".js"];
Module._extensions[".js"] = function (module, filename) {
  const target = TARGETS.find((x) => x.re.test(filename));
  if (!target) return original.call(this, module, filename);
  const t0 = now();
  const result = original.call(this, module, filename);
  emit({ ev: "load", mod: target.mod, ms: now() - t0 });
  try {
    target.patch(module.exports, module);
  } catch (error) {
    emit({ ev: "patch-failed", mod: target.mod, error: String(error) });
  }
  return result;
};
process.on("exit", () => emit({ ev: "exit" }));
