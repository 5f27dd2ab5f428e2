import { describe, expect, it } from "vitest";
import { ChangeBatcher, type Change } from "./change-batcher.js";

type State = Set<string>;

function recordingBatcher(options: { failWhen?: (next: State) => boolean } = {}) {
  const applies: string[][] = [];
  const restores: string[][] = [];
  const batcher = new ChangeBatcher<State>({
    initial: new Set(),
    clone: (state) => new Set(state),
    apply: async (next) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      applies.push([...next].sort());
      if (options.failWhen?.(next)) throw new Error(`cannot apply ${[...next].join(",")}`);
    },
    restore: async (good) => {
      restores.push([...good].sort());
    },
  });
  return { batcher, applies, restores };
}

const add = (item: string): Change<State> => ({ label: item, mutate: (draft) => void draft.add(item) });

describe("ChangeBatcher", () => {
  it("applies changes submitted in the same turn in one apply, and resolves each once it is applied", async () => {
    const { batcher, applies } = recordingBatcher();
    await Promise.all(["a", "b", "c"].map((item) => batcher.submit(add(item))));
    expect(applies).toEqual([["a", "b", "c"]]);
    expect([...batcher.applied].sort()).toEqual(["a", "b", "c"]);
  });

  it("applies changes submitted while an apply is in flight together, in the next apply", async () => {
    const { batcher, applies } = recordingBatcher();
    const first = batcher.submit(add("a"));
    await new Promise((resolve) => setTimeout(resolve, 2));
    await Promise.all([first, batcher.submit(add("b")), batcher.submit(add("c"))]);
    expect(applies).toEqual([["a"], ["a", "b", "c"]]);
  });

  it("waits for changes being prepared (submitAfter) so that calls made together share one apply", async () => {
    const { batcher, applies } = recordingBatcher();
    const slow = (item: string, ms: number) => batcher.submitAfter(async () => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return add(item);
    });
    await Promise.all([batcher.submit(add("a")), slow("b", 20), slow("c", 40)]);
    expect(applies).toEqual([["a", "b", "c"]]);
  });

  it("submits nothing when the preparation of a change fails", async () => {
    const { batcher, applies } = recordingBatcher();
    await expect(batcher.submitAfter(async () => { throw new Error("no port"); })).rejects.toThrow("no port");
    await batcher.submit(add("a"));
    expect(applies).toEqual([["a"]]);
  });

  it("skips the apply when no change changes anything", async () => {
    const { batcher, applies } = recordingBatcher();
    await batcher.submit({ label: "nothing", mutate: () => false });
    expect(applies).toEqual([]);
  });

  it("fails only the change that mutate refuses, and applies the others", async () => {
    const { batcher, applies } = recordingBatcher();
    const refused = batcher.submit({ label: "bad", mutate: () => { throw new Error("refused"); } });
    const accepted = batcher.submit(add("a"));
    await expect(refused).rejects.toThrow("refused");
    await accepted;
    expect(applies).toEqual([["a"]]);
  });

  it("GIVEN a batch whose apply fails WHEN retried one by one THEN only the bad change fails and the world is restored", async () => {
    const { batcher, applies, restores } = recordingBatcher({ failWhen: (next) => next.has("bad") });
    const results = await Promise.allSettled([batcher.submit(add("a")), batcher.submit(add("bad")), batcher.submit(add("b"))]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect([...batcher.applied].sort()).toEqual(["a", "b"]);
    // The batch, then a, bad (fails), b: the last apply succeeded, so nothing to restore.
    expect(applies).toEqual([["a", "b", "bad"], ["a"], ["a", "bad"], ["a", "b"]]);
    expect(restores).toEqual([]);
  });

  it("restores the last applied state when the last apply failed", async () => {
    const { batcher, restores } = recordingBatcher({ failWhen: (next) => next.has("bad") });
    await batcher.submit(add("a"));
    await expect(batcher.submit(add("bad"))).rejects.toThrow("cannot apply");
    expect(restores).toEqual([["a"]]);
  });

  it("refuses changes after close, and those still waiting", async () => {
    const { batcher } = recordingBatcher();
    const waiting = expect(batcher.submit(add("a"))).rejects.toThrow("closed");
    await batcher.close(new Error("closed"));
    await waiting;
    await expect(batcher.submit(add("b"))).rejects.toThrow("closed");
  });
});
