import { describe, expect, it } from "vitest";
import { Resource, type Context } from "alchemy";
import { alchemy, memoryState } from "./world.test-fixture.js";

describe("a resource kind's read option", () => {
  const world = new Map<string, string>();
  const Thing = Resource(
    "test::ReadThing",
    {
      async read(this: Context<{ value: string }, { value: string }>) {
        const now = world.get(this.fqn);
        if (now === undefined) throw new Error(`${this.fqn} is gone`);
        return { value: now };
      },
    },
    async function (this: Context<{ value: string }, { value: string }>, _id: string, props: { value: string }) {
      if (this.phase === "delete") return this.destroy();
      world.set(this.fqn, props.value);
      return { value: props.value };
    },
  );

  it("refreshes what the read phase shows from the world, and fails the read of a resource it finds gone", async () => {
    const state = memoryState();
    const up = await alchemy("app", state.options());
    await Thing("a", { value: "deployed" });
    await up.finalize();

    world.set("app/test/a", "changed by hand");
    const read = await alchemy("app", { ...state.options(), phase: "read" });
    expect((await Thing("a", { value: "deployed" })).value).toBe("changed by hand");
    await read.finalize();

    world.delete("app/test/a");
    const again = await alchemy("app", { ...state.options(), phase: "read" });
    await expect(Thing("a", { value: "deployed" })).rejects.toThrow("app/test/a is gone");
    await again.release();
  });

  it("is refused when it is not a function, naming the kind", () => {
    expect(() => Resource("test::BadRead", { read: "yes" } as never, async () => ({}))).toThrow(/Resource test::BadRead: read must be a function/);
  });
});
