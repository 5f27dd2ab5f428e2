import { describe, expect, it } from "vitest";
import { MemoryStateStore } from "../state/memory/memory-state-store.js";
import { Resource, ResourceError, type Context } from "alchemy";
import { alchemy, memoryState } from "./world.test-fixture.js";

interface Props {
  value: number;
  /** How the handler asks for a replacement or says it is destroyed. */
  form: "return" | "bare" | "swallowed" | "rethrown";
}
interface Output {
  value: number;
}

let kinds = 0;

/**
 * A resource that replaces itself when `value` changes, logging each step; the
 * step "went on" runs only if the handler continued past this.replace() or
 * this.destroy().
 */
function loggedResource() {
  const log: string[] = [];
  const Thing = Resource(`test::Stops${++kinds}`, async function (this: Context<Output, Props>, id: string, props: Props): Promise<Output> {
    log.push(`${this.phase} ${this.phase === "delete" ? this.output.value : props.value}`);
    if (this.phase === "delete") {
      if (props.form === "bare") this.destroy();
      else if (props.form === "swallowed") {
        try {
          this.destroy();
        } catch {
          // a catch-all that keeps going
        }
      } else return this.destroy();
    }
    if (this.phase === "update" && props.value !== this.props.value) {
      if (props.form === "bare") this.replace();
      else if (props.form === "return") return this.replace();
      else if (props.form === "rethrown") {
        try {
          this.replace();
        } catch (error) {
          if (error instanceof ResourceError) log.push("handled");
          else throw error;
        }
      } else {
        try {
          this.replace();
        } catch {
          // a catch-all that keeps going
        }
      }
    }
    log.push(`${this.phase} went on`);
    return { value: props.value };
  });
  return { Thing, log };
}

async function record(tree: ReturnType<typeof memoryState>["tree"], id: string) {
  return new MemoryStateStore({ chain: ["app", "test"] }, { tree }).get(id);
}

describe("this.replace() and this.destroy() stop the handler", () => {
  for (const form of ["return", "bare", "rethrown"] as const) {
    it(`replaces the resource and runs nothing after this.replace() (${form === "bare" ? "called without return, as in Alchemy 0.94" : form === "return" ? "return this.replace()" : "caught and rethrown"})`, async () => {
      const { Thing, log } = loggedResource();
      const state = memoryState();
      for (const value of [1, 2]) {
        const app = await alchemy("app", state.options());
        expect(await Thing("r", { value, form })).toEqual({ value });
        await app.finalize();
      }
      // update 2 stopped at this.replace(): the new instance was created, the old one deleted at finalize.
      expect(log).toEqual(["create 1", "create went on", "update 2", "create 2", "create went on", "delete 1"]);
      const rec = await record(state.tree, "r");
      expect(rec).toMatchObject({ status: "created", output: { value: 2 } });
      expect(rec!.replaced).toBeUndefined();
    });
  }

  it("ends a delete at this.destroy() called without return, running nothing after it", async () => {
    const { Thing, log } = loggedResource();
    const state = memoryState();
    let app = await alchemy("app", state.options());
    await Thing("r", { value: 1, form: "bare" });
    await app.finalize();
    app = await alchemy("app", state.options());
    await app.finalize();
    expect(log).toEqual(["create 1", "create went on", "delete 1"]);
    expect(await record(state.tree, "r")).toBeUndefined();
  });

  it("counts a delete that caught the this.destroy() signal and returned as done, like any delete that returns", async () => {
    const { Thing, log } = loggedResource();
    const state = memoryState();
    let app = await alchemy("app", state.options());
    await Thing("r", { value: 1, form: "swallowed" });
    await app.finalize();
    app = await alchemy("app", state.options());
    await app.finalize();
    expect(log).toEqual(["create 1", "create went on", "delete 1", "delete went on"]);
    expect(await record(state.tree, "r")).toBeUndefined();
  });

  it("refuses an update whose handler caught the this.replace() signal and returned, leaving the record updating", async () => {
    const { Thing, log } = loggedResource();
    const state = memoryState();
    let app = await alchemy("app", state.options());
    await Thing("r", { value: 1, form: "swallowed" });
    await app.finalize();
    app = await alchemy("app", state.options());
    const error = await Thing("r", { value: 2, form: "swallowed" }).catch((e: unknown) => e);
    await app.finalize();
    expect(error).toBeInstanceOf(ResourceError);
    expect((error as Error).message).toContain('Failed to update "app/test/r"');
    expect((error as Error).message).toContain("called this.replace() during update, then went on and returned: a try/catch in it caught");
    expect(log).toEqual(["create 1", "create went on", "update 2", "update went on"]);
    const rec = await record(state.tree, "r");
    expect(rec).toMatchObject({ status: "updating", props: { value: 1 }, output: { value: 1 } });
    expect(rec!.replaced).toBeUndefined();
  });

  it("gives a handler's catch-all that logs the signal a message saying what it caught", async () => {
    let caught: unknown;
    const Thing = Resource(`test::Stops${++kinds}`, async function (this: Context<Output, { value: number }>, id: string, props: { value: number }) {
      if (this.phase === "update") {
        try {
          this.replace();
        } catch (error) {
          caught = error;
          throw error;
        }
      }
      return { value: props.value };
    });
    const state = memoryState();
    for (const value of [1, 2]) {
      const app = await alchemy("app", state.options());
      await Thing("r", { value });
      await app.finalize();
    }
    expect((caught as Error).message).toContain('this.replace() stops the handler of "app/test/r" here');
    expect(String(caught)).toContain("let it through");
  });
});
