/**
 * A small in-memory "cloud" for engine tests: a resource kind whose handler
 * records every call and refuses to delete a thing while another live thing
 * depends on it or lives inside it, so ordering bugs fail loudly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import alchemy, { Resource, type AlchemyOptions, type Context, type StateStore, type StateStoreScope } from "alchemy";
import { createMemoryStateTree, MemoryStateStore } from "../state/memory/memory-state-store.js";

export interface ThingProps {
  value?: unknown;
  /** Outputs of things this one uses. */
  uses?: ThingOutput[];
  /** Ask for a replacement when `value` changes. */
  replaceOnChange?: boolean | "force";
  /** Declare these child things inside the handler (resource scope). */
  children?: string[];
}

export interface ThingOutput {
  fqn: string;
  value: unknown;
  generation: number;
}

export interface Call {
  phase: string;
  fqn: string;
}

let worlds = 0;

export function createWorld() {
  const kind = `test::Thing${++worlds}`;
  const live = new Map<string, { uses: string[]; generation: number }>();
  const calls: Call[] = [];
  const violations: string[] = [];
  const failing = new Map<string, string>();
  let generation = 0;
  /** Delete handlers running at once, now and at most. */
  const deletes = { inFlight: 0, maxInFlight: 0 };

  const Thing = Resource(kind, async function (this: Context<ThingOutput, ThingProps>, id: string, props: ThingProps): Promise<ThingOutput> {
    calls.push({ phase: this.phase, fqn: this.fqn });
    if (this.phase === "delete") deletes.maxInFlight = Math.max(deletes.maxInFlight, ++deletes.inFlight);
    await new Promise((r) => setImmediate(r));
    if (this.phase === "delete") deletes.inFlight--;
    const failure = failing.get(`${this.phase}:${this.fqn}`);
    if (failure) throw new Error(failure);
    if (this.phase === "delete") {
      for (const [fqn, thing] of live) {
        if (fqn !== this.fqn && (thing.uses.includes(this.fqn) || fqn.startsWith(this.fqn + "/"))) {
          violations.push(`${this.fqn} deleted while ${fqn} still depends on it`);
        }
      }
      const current = live.get(this.fqn);
      if (current && this.output && current.generation === this.output.generation) live.delete(this.fqn);
      else if (current && !this.output) live.delete(this.fqn);
      return this.destroy();
    }
    if (this.phase === "update" && props.replaceOnChange && this.props.value !== props.value) {
      return this.replace(props.replaceOnChange === "force");
    }
    for (const child of props.children ?? []) await Thing(child, { value: `${id}/${child}` });
    const gen = this.phase === "update" ? this.output.generation : ++generation;
    live.set(this.fqn, { uses: (props.uses ?? []).map((u) => u.fqn), generation: gen });
    return { fqn: this.fqn, value: props.value ?? null, generation: gen };
  });

  return {
    Thing,
    kind,
    live,
    calls,
    violations,
    deletes,
    /** Makes `phase` of `fqn` throw `message`. */
    failOn(phase: string, fqn: string, message = `injected ${phase} failure`) {
      failing.set(`${phase}:${fqn}`, message);
    },
    heal() {
      failing.clear();
    },
    count(phase: string) {
      return calls.filter((c) => c.phase === phase).length;
    },
    reset() {
      calls.length = 0;
    },
  };
}

/** One store call, as seen by {@link memoryState}'s log. */
export interface StoreCall {
  method: string;
  scope: string;
  id?: string;
}

/** Options for runs on one shared in-memory state tree (quiet), logging every store call. */
export function memoryState() {
  const tree = createMemoryStateTree();
  const log: StoreCall[] = [];
  const logged = (scope: StateStoreScope): StateStore => {
    const store = new MemoryStateStore(scope, { tree });
    const path = scope.chain.join("/");
    return new Proxy(store, {
      get(target, method, receiver) {
        const value = Reflect.get(target, method, receiver);
        if (typeof value !== "function" || typeof method !== "string") return value;
        return (...args: unknown[]) => {
          log.push({ method, scope: path, ...(typeof args[0] === "string" ? { id: args[0] } : {}) });
          return value.apply(target, args);
        };
      },
    });
  };
  return {
    tree,
    log,
    writes: () => log.filter((c) => c.method === "set" || c.method === "delete"),
    options: (extra: AlchemyOptions = {}): AlchemyOptions => ({
      stage: "test",
      quiet: true,
      stateStore: logged,
      ...extra,
    }),
  };
}

/** A temp directory removed by the returned function. */
export function tempDir(prefix = "alchemy-test-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export { alchemy };
