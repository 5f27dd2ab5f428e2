import { describe, expect, it } from "vitest";
import { WriteBatcher } from "./write-batcher.js";

/** A batcher whose commits are recorded and released by hand. */
function recorder(options: { maxWrites?: number; maxBytes?: number } = {}) {
  const batches: string[][] = [];
  const release: Array<(error?: Error) => void> = [];
  const batcher = new WriteBatcher<string>({
    ...options,
    commit: (batch) => {
      batches.push(batch);
      return new Promise<void>((resolve, reject) => release.push((error) => (error ? reject(error) : resolve())));
    },
    failure: (error, write) => new Error(`${write}: ${(error as Error).message}`),
  });
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return { batcher, batches, release, tick };
}

describe("WriteBatcher", () => {
  it("commits writes submitted in one tick as one batch, keeping only the last write of each key", async () => {
    const { batcher, batches, release, tick } = recorder();
    const done = [batcher.submit("a", "a=1"), batcher.submit("b", "b=1"), batcher.submit("a", "a=del"), batcher.submit("a", "a=3")];
    await tick();
    expect(batches).toEqual([["b=1", "a=3"]]);
    release[0]!();
    await Promise.all(done);
  });

  it("sends writes submitted while a batch is in flight as the next batch, after the first ends", async () => {
    const { batcher, batches, release, tick } = recorder();
    const first = batcher.submit("a", "a=1");
    await tick();
    const second = [batcher.submit("a", "a=2"), batcher.submit("b", "b=2")];
    await tick();
    expect(batches).toEqual([["a=1"]]);
    release[0]!();
    await first;
    await tick();
    expect(batches).toEqual([["a=1"], ["a=2", "b=2"]]);
    release[1]!();
    await Promise.all(second);
  });

  it("rejects every write of a failed batch, each with its own error, and commits the next batch", async () => {
    const { batcher, release, tick } = recorder();
    const failed = [batcher.submit("a", "a=1"), batcher.submit("b", "b=1")].map((p) => p.then(() => "ok", (e: Error) => e.message));
    await tick();
    const later = batcher.submit("c", "c=1");
    release[0]!(new Error("disk full"));
    expect(await Promise.all(failed)).toEqual(["a=1: disk full", "b=1: disk full"]);
    await tick();
    release[1]!();
    await expect(later).resolves.toBeUndefined();
  });

  it("splits a long queue at maxWrites and maxBytes, in the order of submission", async () => {
    const { batcher, batches, release, tick } = recorder({ maxWrites: 3, maxBytes: 10 });
    const all = ["a", "b", "c", "d"].map((k) => batcher.submit(k, k, 1));
    all.push(batcher.submit("big", "big", 50), batcher.submit("e", "e", 1));
    for (let i = 0; i < 4; i++) {
      await tick();
      release[i]!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await Promise.all(all);
    expect(batches).toEqual([["a", "b", "c"], ["d"], ["big"], ["e"]]);
  });

  it("settles once the writes submitted before the call have finished, not those after it", async () => {
    const { batcher, release, tick } = recorder();
    await batcher.settled();
    const write = batcher.submit("a", "a=1");
    let settled = false;
    const waiting = batcher.settled().then(() => (settled = true));
    await tick();
    const after = batcher.submit("b", "b=1");
    expect(settled).toBe(false);
    release[0]!();
    await waiting;
    expect(batcher.pending).toBe(1);
    await tick();
    release[1]!();
    await Promise.all([write, after]);
    expect(batcher.pending).toBe(0);
  });
});
